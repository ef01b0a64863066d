/**
 * Secrets at rest (SMTP passwords, webhook signing secrets, remediation credentials): encrypted with
 * AES-256-GCM under a key kept outside the database — a key file readable only by Vigil's user,
 * created on first start — so a copy of state.sqlite alone reveals nothing. The API never returns a
 * secret in clear: it says whether one is set ({@link describeSecret}).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';

const VERSION = 'v1';

/** A secret that cannot be decrypted (wrong key, tampered text). */
export class SecretError extends Error {}

/** Encrypts and decrypts secrets with one key. */
export class SecretBox {
  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new SecretError('secret key must be 32 bytes');
  }

  /** Loads the key file, creating it (mode 0600) when missing; refuses a key file others can read. */
  static fromKeyFile(path: string): SecretBox {
    if (!existsSync(path)) {
      writeFileSync(path, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    }
    const mode = statSync(path).mode & 0o077;
    if (mode !== 0) chmodSync(path, 0o600);
    const key = Buffer.from(readFileSync(path, 'utf8').trim(), 'base64');
    if (key.length !== 32) throw new SecretError(`${path}: expected 32 bytes of base64`);
    return new SecretBox(key);
  }

  /** `v1:<base64 iv|tag|ciphertext>` */
  encrypt(plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const ct = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return `${VERSION}:${Buffer.concat([iv, cipher.getAuthTag(), ct]).toString('base64')}`;
  }

  decrypt(sealed: string): string {
    const [version, data] = sealed.split(':');
    if (version !== VERSION || !data) throw new SecretError('not an encrypted secret');
    const raw = Buffer.from(data, 'base64');
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
      decipher.setAuthTag(raw.subarray(12, 28));
      return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretError('secret cannot be decrypted: wrong key or tampered value');
    }
  }
}

/** What the API shows of a stored secret. */
export function describeSecret(sealed: string | null | undefined): { set: boolean } {
  return { set: typeof sealed === 'string' && sealed.length > 0 };
}
