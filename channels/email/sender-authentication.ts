/**
 * Is the From address of an inbound email really the sender's? SendGrid
 * Inbound Parse passes on its SPF and DKIM verdicts but decides nothing, and
 * a From header costs nothing to forge, so a patient's address must not be
 * trusted on its say-so. The rule is DMARC's (RFC 7489 §3.1, relaxed
 * alignment): authenticated only when a passing DKIM signature or a passing
 * SPF check speaks for the same organizational domain as the From address.
 *
 * Pure and total: whatever arrives in the webhook, this returns a verdict and
 * never throws, and its work is bounded however large the fields are.
 */
import { domainToASCII } from 'node:url';
import { getDomain } from 'tldts';

export interface InboundAuthenticationInput {
  /** The bare From address, e.g. jo@example.org (a `Name <address>` form is accepted too). */
  from: string;
  /** Inbound Parse's `SPF` field. */
  spf?: string | undefined;
  /** Inbound Parse's `dkim` field, e.g. `{@example.org : pass, @sendgrid.net : fail}`. */
  dkim?: string | undefined;
  /** The envelope sender (MAIL FROM), e.g. from the `envelope` field's `from`. */
  envelopeFrom?: string | undefined;
  /** The raw header block (Inbound Parse's `headers` field). */
  headers?: string | undefined;
  /** Which Authentication-Results authserv-ids to believe; default: sendgrid.net and its subdomains. */
  trustedAuthServIds?: (id: string) => boolean;
}

export interface SenderAuthentication {
  authenticated: boolean;
  /** Short machine reason, e.g. 'dkim_aligned', 'spf_aligned', 'dmarc_pass', 'spf_fail', 'dkim_unaligned', 'no_evidence' */
  reason: string;
  fromDomain: string;
  /** Normalized SPF result ('pass','fail','softfail','neutral','none','temperror','permerror'). */
  spf: string;
  /** Domains whose DKIM signature passed (lowercase). */
  dkimPassDomains: string[];
}

// Real header blocks are a few KB; past this a sender is only making us work.
const MAX_HEADER_CHARS = 64 * 1024;
const MAX_AUTH_RESULTS_HEADERS = 50;
// SendGrid lists one entry per signature; a message with more is not plausible.
const MAX_DKIM_FIELD_CHARS = 8 * 1024;
const MAX_DKIM_ENTRIES = 50;
const MAX_ADDRESS_CHARS = 2048;
const MAX_RESULT_CHARS = 256;

const SPF_RESULTS = new Set(['pass', 'fail', 'softfail', 'neutral', 'none', 'temperror', 'permerror']);
// Older receivers (RFC 4408 era and some MTAs) still write these spellings.
const SPF_ALIASES: Record<string, string> = { hardfail: 'fail', error: 'temperror', unknown: 'permerror' };

const defaultTrustedAuthServId = (id: string): boolean => /(^|\.)sendgrid\.net$/i.test(id);

const LABEL = '[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?';
const DOMAIN = new RegExp(`^(?=.{1,253}$)${LABEL}(?:\\.${LABEL})*$`);

export function authenticateSender(input: InboundAuthenticationInput): SenderAuthentication {
  try {
    return decide(input);
  } catch {
    // Unreachable by design; a verdict of "not authenticated" is the only safe answer if it happens anyway.
    return { authenticated: false, reason: 'invalid_input', fromDomain: '', spf: 'none', dkimPassDomains: [] };
  }
}

function decide(input: InboundAuthenticationInput): SenderAuthentication {
  const fieldSpf = normalizeSpfResult(text(input?.spf, MAX_RESULT_CHARS));
  const dkimPass = new Set(dkimFieldPasses(text(input?.dkim, MAX_DKIM_FIELD_CHARS)));
  const evidence = trustedAuthenticationResults(text(input?.headers), trustFunction(input?.trustedAuthServIds));
  for (const domain of evidence.dkimPass) dkimPass.add(domain);
  const dkimPassDomains = [...dkimPass];
  // The webhook's own SPF field is the primary verdict; a trusted header only fills in when it is missing.
  const spf = fieldSpf ?? evidence.spf[0]?.result ?? 'none';

  const fromDomain = fromDomainOf(text(input?.from, MAX_ADDRESS_CHARS) ?? '');
  if (!fromDomain) return { authenticated: false, reason: 'invalid_from', fromDomain: '', spf, dkimPassDomains };
  const verdict = (authenticated: boolean, reason: string): SenderAuthentication => ({ authenticated, reason, fromDomain, spf, dkimPassDomains });

  if (dkimPassDomains.some((d) => aligned(d, fromDomain))) return verdict(true, 'dkim_aligned');

  // SendGrid's SPF field says which result, not for which domain. The check is
  // made on the envelope sender, so that is the domain it vouches for; without
  // one we cannot tell whether the pass was for the From's domain or for any
  // domain the sender controls, so the pass counts as unaligned.
  const envelopeDomain = addressDomain(text(input?.envelopeFrom, MAX_ADDRESS_CHARS) ?? '');
  const spfPassDomains: string[] = evidence.spf.filter((s) => s.result === 'pass' && s.domain).map((s) => s.domain!);
  if (fieldSpf === 'pass' && envelopeDomain) spfPassDomains.push(envelopeDomain);
  if (spfPassDomains.some((d) => aligned(d, fromDomain))) return verdict(true, 'spf_aligned');

  // The receiver already did the alignment; header.from must still name our
  // From, or a pass for some other message's From would be borrowed.
  if (evidence.dmarcPassFrom.includes(fromDomain)) return verdict(true, 'dmarc_pass');

  if (spf === 'fail' || spf === 'softfail') return verdict(false, 'spf_fail');
  if (dkimPassDomains.length > 0) return verdict(false, 'dkim_unaligned');
  if (spfPassDomains.length > 0) return verdict(false, 'spf_unaligned');
  if (spf === 'pass') return verdict(false, 'spf_domain_unknown');
  return verdict(false, 'no_evidence');
}

function text(value: unknown, max = MAX_HEADER_CHARS): string | undefined {
  return typeof value === 'string' ? value.slice(0, max) : undefined;
}

function trustFunction(candidate: unknown): (id: string) => boolean {
  const trust = typeof candidate === 'function' ? (candidate as (id: string) => boolean) : defaultTrustedAuthServId;
  return (id) => {
    try {
      return trust(id) === true;
    } catch {
      return false;
    }
  };
}

function normalizeSpfResult(value: string | undefined): string | undefined {
  const word = /^\s*([a-z]+)/i.exec(value ?? '')?.[1]?.toLowerCase();
  if (!word) return undefined;
  const result = SPF_ALIASES[word] ?? word;
  return SPF_RESULTS.has(result) ? result : undefined;
}

/** Lowercase ASCII (A-label) form of a domain, or undefined if it is not one. */
function normalizeDomain(raw: string): string | undefined {
  let domain = raw.trim();
  if (domain.startsWith('@')) domain = domain.slice(1);
  if (domain.endsWith('.')) domain = domain.slice(0, -1);
  if (domain.length === 0 || domain.length > 253) return undefined;
  // The URL host parser behind domainToASCII would quietly drop a path or
  // percent-decode (`example.org/x` becomes `example.org`), so it only ever
  // sees characters a domain can hold.
  if (!/^[a-z0-9._\-\u0080-\uffff]+$/i.test(domain)) return undefined;
  // A From in Unicode and a DKIM d= in punycode are the same domain.
  const ascii = /^[\x00-\x7f]*$/.test(domain) ? domain.toLowerCase() : domainToASCII(domain);
  return ascii && DOMAIN.test(ascii) ? ascii : undefined;
}

function addressDomain(address: string): string | undefined {
  const bare = address.trim().replace(/^<(.*)>$/s, '$1');
  const at = bare.lastIndexOf('@');
  // `@example.org` (a header.i with an empty local part) still names its domain.
  return at >= 0 ? normalizeDomain(bare.slice(at + 1)) : undefined;
}

function fromDomainOf(from: string): string | undefined {
  // Quoted display names and local parts may hold `<`, `@` or `,`; the domain never holds quotes.
  let address = stripComments(from).replace(/"(?:[^"\\]|\\.)*"/g, '""').trim();
  const angles = address.match(/<[^<>]*>/g);
  if (angles) {
    // Several mailboxes in one From cannot be authenticated as one sender (RFC 7489 §6.6.1).
    if (angles.length !== 1) return undefined;
    address = angles[0]!.slice(1, -1).trim();
  }
  const at = address.lastIndexOf('@');
  if (at <= 0) return undefined;
  // `jo@evil.example, jo@example.org` must not pass as example.org: outside
  // quotes the local part may hold no second address.
  if (/[@,;<>\s]/.test(address.slice(0, at))) return undefined;
  return normalizeDomain(address.slice(at + 1));
}

function organizationalDomain(domain: string): string | null {
  // Private PSL entries (github.io, herokuapp.com...) count as suffixes: two
  // tenants of one platform are different organizations.
  return getDomain(domain, { allowPrivateDomains: true });
}

function aligned(domain: string, fromDomain: string): boolean {
  if (domain === fromDomain) return true;
  const org = organizationalDomain(domain);
  // No organizational domain (a public suffix itself, a single label): only an exact match is safe.
  return org !== null && org === organizationalDomain(fromDomain);
}

/** Domains that passed in SendGrid's `{@domain : result, ...}` dkim field. */
function dkimFieldPasses(field: string | undefined): string[] {
  if (!field) return [];
  const passes: string[] = [];
  const entries = field.trim().replace(/^\{/, '').replace(/\}$/, '').split(',', MAX_DKIM_ENTRIES);
  for (const entry of entries) {
    const match = /^\s*@?([^\s:{}]+)\s*:\s*([a-z]+)/i.exec(entry);
    if (!match || match[2]!.toLowerCase() !== 'pass') continue;
    const domain = normalizeDomain(match[1]!);
    if (domain) passes.push(domain);
  }
  return passes;
}

interface AuthenticationResultsEvidence {
  dkimPass: string[];
  spf: { result: string; domain: string | undefined }[];
  dmarcPassFrom: string[];
}

/** Unfolded header fields (name lowercased), in order; `complete` when the blank line ending the block was seen. */
function headerFields(block: string): { fields: { name: string; value: string }[]; complete: boolean } {
  const lines = block.split(/\r\n|\n|\r/);
  const fields: { name: string; value: string }[] = [];
  for (const line of lines) {
    if (line === '') return { fields, complete: true };
    if (/^[ \t]/.test(line)) {
      const last = fields[fields.length - 1];
      if (last) last.value += ` ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    fields.push({ name: line.slice(0, colon).trim().toLowerCase(), value: line.slice(colon + 1).trim() });
  }
  return { fields, complete: false };
}

/**
 * Evidence from Authentication-Results headers (RFC 8601) written by a
 * receiver we trust. Anyone can put such headers in their own mail before
 * sending it, so only an allowlisted authserv-id is believed. Received-SPF is
 * not used at all: it names no authserv-id, so a forged one cannot be told
 * from the receiver's.
 */
function trustedAuthenticationResults(block: string | undefined, trusted: (id: string) => boolean): AuthenticationResultsEvidence {
  const evidence: AuthenticationResultsEvidence = { dkimPass: [], spf: [], dmarcPassFrom: [] };
  if (!block) return evidence;
  const { fields, complete } = headerFields(block);
  // A block cut at the size cap may end mid-header: `header.d=example.org.evil.example`
  // cut after `example.org` would read as a pass for the wrong domain.
  if (!complete && block.length >= MAX_HEADER_CHARS) fields.pop();
  const results = fields.filter((f) => f.name === 'authentication-results').slice(0, MAX_AUTH_RESULTS_HEADERS);
  for (const { value } of results) {
    const [head, ...statements] = splitStatements(stripComments(value));
    const authServId = head?.trim().split(/\s+/)[0]?.toLowerCase();
    if (!authServId || !trusted(authServId)) continue;
    for (const statement of statements) readStatement(statement, evidence);
  }
  return evidence;
}

/** RFC 8601 allows CFWS comments anywhere; `(...)` may nest and hide `;` or `=`. */
function stripComments(value: string): string {
  let out = '';
  let depth = 0;
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c === '\\' && (quoted || depth > 0)) {
      if (depth === 0) out += value.slice(i, i + 2);
      i++;
    } else if (depth === 0 && c === '"') {
      quoted = !quoted;
      out += c;
    } else if (!quoted && c === '(') {
      depth++;
    } else if (!quoted && c === ')' && depth > 0) {
      depth--;
      if (depth === 0) out += ' ';
    } else if (depth === 0) {
      out += c;
    }
  }
  return out;
}

function splitStatements(value: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (const c of value) {
    if (c === '"') quoted = !quoted;
    if (c === ';' && !quoted) {
      parts.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  parts.push(current);
  return parts;
}

function readStatement(statement: string, evidence: AuthenticationResultsEvidence): void {
  const tokens = statement.trim().split(/\s+/);
  const method = /^([a-z0-9-]+)(?:\/[0-9]+)?=([a-z]+)$/i.exec(tokens[0] ?? '');
  if (!method) return;
  const name = method[1]!.toLowerCase();
  const result = method[2]!.toLowerCase();
  const props = new Map<string, string>();
  for (const token of tokens.slice(1)) {
    const eq = token.indexOf('=');
    if (eq <= 0) continue;
    const key = token.slice(0, eq).toLowerCase();
    if (!props.has(key)) props.set(key, token.slice(eq + 1).replace(/^"(.*)"$/s, '$1'));
  }
  const domainOf = (value: string | undefined) => (value === undefined ? undefined : value.includes('@') ? addressDomain(value) : normalizeDomain(value));

  if (name === 'dkim' && result === 'pass') {
    // header.i is the agent's identity; its domain is d= or a subdomain of it, so either speaks for the signer.
    const domain = domainOf(props.get('header.d')) ?? domainOf(props.get('header.i'));
    if (domain) evidence.dkimPass.push(domain);
  } else if (name === 'spf') {
    const spfResult = normalizeSpfResult(result);
    if (spfResult) evidence.spf.push({ result: spfResult, domain: domainOf(props.get('smtp.mailfrom')) });
  } else if (name === 'dmarc' && result === 'pass') {
    const domain = domainOf(props.get('header.from'));
    if (domain) evidence.dmarcPassFrom.push(domain);
  }
}
