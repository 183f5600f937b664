/**
 * Encryption of PHI values at rest (AES-256-GCM) and their blind index.
 *
 * An encrypted value is stored as `v1.<keyId>.<iv>.<tag>.<ciphertext>` (base64url
 * parts), so keys can rotate: the first configured key encrypts, any listed key
 * decrypts. The blind index is an HMAC-SHA256 of the normalized value under a
 * separate key, so an identity can be found by its value without storing it.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

export interface PhiKey {
  id: string;
  key: Buffer;
}

export class PhiCipher {
  private readonly byId: Map<string, Buffer>;
  constructor(
    private readonly keys: readonly PhiKey[],
    private readonly blindIndexKey: Buffer,
  ) {
    if (keys.length === 0) throw new Error('PhiCipher needs at least one key');
    this.byId = new Map(keys.map((k) => [k.id, k.key]));
  }

  encrypt(plain: string): string {
    const { id, key } = this.keys[0]!;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return ['v1', id, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), data.toString('base64url')].join('.');
  }

  decrypt(sealed: string): string {
    const [version, id, iv, tag, data] = sealed.split('.');
    const key = id ? this.byId.get(id) : undefined;
    if (version !== 'v1' || !key || iv === undefined || tag === undefined || data === undefined) {
      throw new Error(`cannot decrypt value sealed with key "${id ?? '?'}"`);
    }
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8');
  }

  /** True when a sealed value was encrypted under a key other than the current (first) one. */
  needsRotation(sealed: string): boolean {
    return sealed.split('.')[1] !== this.keys[0]!.id;
  }

  /** Re-seals a value under the current key (decrypting with whichever listed key sealed it). */
  reseal(sealed: string): string {
    return this.encrypt(this.decrypt(sealed));
  }

  /** Keyed hash of a normalized value, for lookups and unique keys. */
  blindIndex(kind: string, normalized: string): string {
    return createHmac('sha256', this.blindIndexKey).update(`${kind}\u0000${normalized}`).digest('base64url');
  }
}
