/**
 * File names patients and agents give us are shown in the inbox and the
 * widget and become the name a download is saved under, so they must not be
 * able to spoof what they are ("photo\u202Egpj.exe" reads as "photoexe.jpg"),
 * climb out of a folder, hide as a dot file, or run when double-clicked.
 */

/** The cap on a stored name; the extension survives the cut. */
export const MAX_FILE_NAME_LENGTH = 120;

// Bidi embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069), the marks (LRM, RLM, ALM) and the
// invisible characters that can hide a swap the same way (zero-width spaces and joiners, word joiner, BOM).
const INVISIBLE = /[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c\u200b-\u200d\u2060\ufeff]/g;
// Line breaks and tabs would reshape how a name is shown: a space keeps the words apart. Any other C0, DEL or C1 goes.
const BREAKS = /[\t\n\v\f\r\u0085\u2028\u2029]/g;
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;
// Not allowed in Windows names: a download would be renamed or refused there.
const RESERVED = /[<>:"|?*]/g;
const WINDOWS_DEVICE = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\.|$)/i;

/**
 * Extensions a desktop runs, installs, or opens as a page or script when the
 * file is double-clicked or previewed. None is a type we accept, so such a
 * name can only be a disguise.
 */
export const DANGEROUS_EXTENSIONS: ReadonlySet<string> = new Set([
  'exe', 'com', 'scr', 'pif', 'cpl', 'dll', 'sys', 'drv', 'ocx', 'msi', 'msp', 'mst', 'msc', 'appx', 'msix',
  'bat', 'cmd', 'ps1', 'psm1', 'psd1', 'vb', 'vbs', 'vbe', 'js', 'jse', 'mjs', 'cjs', 'ws', 'wsf', 'wsc', 'wsh',
  'hta', 'lnk', 'url', 'scf', 'reg', 'inf', 'chm', 'gadget', 'application', 'settingcontent-ms', 'library-ms',
  'jar', 'class', 'sh', 'bash', 'zsh', 'csh', 'ksh', 'command', 'tool', 'app', 'pkg', 'dmg', 'desktop', 'appimage',
  'deb', 'rpm', 'apk', 'iso', 'img', 'vhd', 'vhdx',
  'py', 'pyw', 'pl', 'rb', 'php', 'asp', 'aspx', 'jsp', 'cgi',
  'html', 'htm', 'xhtml', 'xht', 'shtml', 'mht', 'mhtml', 'svg', 'svgz', 'xml', 'xsl', 'xslt',
  'docm', 'xlsm', 'pptm', 'dotm', 'xlam',
]);

// Spellings of one type's extension: "scan.jpeg" needs no ".jpg" added.
const SAME_EXTENSION: Readonly<Record<string, string>> = { jpeg: 'jpg', jpe: 'jpg', heif: 'heic', text: 'txt' };
const sameExtension = (a: string, b: string) => (SAME_EXTENSION[a] ?? a) === (SAME_EXTENSION[b] ?? b);

/** The extension of a name, lowercased, when it looks like one (short, letters and digits). */
function extensionOf(name: string): string | null {
  const match = /\.([a-z0-9][a-z0-9-]{0,19})$/i.exec(name);
  return match ? match[1]!.toLowerCase() : null;
}

/** Dots and spaces at the end are dropped by Windows ("x.exe." opens as "x.exe"), at the start they hide the file. */
const trimName = (name: string) => name.replace(/^[\s.]+/, '').replace(/[\s.]+$/, '');

/** The characters shown to people: no bidi tricks, controls or path, whitespace collapsed. The extension is left as it is. */
export function plainFileName(name: string): string {
  const chars = name.normalize('NFC').replace(INVISIBLE, '').replace(BREAKS, ' ').replace(CONTROL, '');
  const base = chars.split(/[/\\]/).pop() ?? '';
  return truncate(trimName(base.replace(RESERVED, '_').replace(/\s+/g, ' ')));
}

/**
 * A name safe to store, show and offer as a download. `extension` is the one
 * of the file's real (sniffed) type, without the dot: it replaces a dangerous
 * extension ("photo.png.exe" -> "photo.png", "scan.exe" -> "scan.pdf") and
 * names an empty result ("attachment.pdf"). Idempotent.
 */
export function safeFileName(name: string, extension?: string): string {
  const ext = extension?.replace(/^\./, '').toLowerCase() || undefined;
  let result = plainFileName(name);
  let dropped = false;
  for (let current = extensionOf(result); current && DANGEROUS_EXTENSIONS.has(current); current = extensionOf(result)) {
    result = trimName(result.slice(0, -(current.length + 1)));
    dropped = true;
  }
  if (WINDOWS_DEVICE.test(result)) result = `_${result}`;
  if (!result) return ext ? `attachment.${ext}` : 'attachment';
  if (dropped && ext) {
    const current = extensionOf(result);
    if (!current || !sameExtension(current, ext)) result = `${result}.${ext}`;
  }
  return truncate(result);
}

/** At most MAX_FILE_NAME_LENGTH characters (code points), cutting the stem so the extension stays. */
function truncate(name: string): string {
  const chars = Array.from(name);
  if (chars.length <= MAX_FILE_NAME_LENGTH) return name;
  const ext = extensionOf(name);
  if (!ext) return trimName(chars.slice(0, MAX_FILE_NAME_LENGTH).join(''));
  const stem = Array.from(name.slice(0, -(ext.length + 1)));
  return `${trimName(stem.slice(0, MAX_FILE_NAME_LENGTH - ext.length - 1).join(''))}.${ext}`;
}
