/**
 * One secret, one purpose: keys for signed links and tokens are derived from
 * a root secret with the purpose's name (HKDF-SHA256), so a key known for one
 * purpose signs nothing else. In particular WIDGET_IDENTITY_SECRET, which the
 * clinic's portal also holds, only proves portal identities: secure message
 * links and media links are keyed from JWT_SECRET, which never leaves the hub.
 */
import { hkdfSync } from 'node:crypto';

export type KeyPurpose = 'secure-message-links' | 'media-links' | 'portal-identity' | 'csat-links';

export function purposeKey(rootSecret: string, purpose: KeyPurpose): string {
  return Buffer.from(hkdfSync('sha256', rootSecret, 'carethread', `carethread:${purpose}`, 32)).toString('base64url');
}
