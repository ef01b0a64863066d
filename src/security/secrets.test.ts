import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeSecret, SecretBox, SecretError } from './secrets.ts';

describe('SecretBox', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-secrets-'));
  it('creates a 0600 key file and round-trips secrets without storing them in clear', () => {
    const box = SecretBox.fromKeyFile(join(dir, 'secret.key'));
    expect(statSync(join(dir, 'secret.key')).mode & 0o777).toBe(0o600);
    const sealed = box.encrypt('smtp-password-123');
    expect(sealed).toMatch(/^v1:/);
    expect(sealed).not.toContain('smtp-password-123');
    expect(box.encrypt('smtp-password-123')).not.toBe(sealed);
    expect(box.decrypt(sealed)).toBe('smtp-password-123');
    expect(SecretBox.fromKeyFile(join(dir, 'secret.key')).decrypt(sealed)).toBe('smtp-password-123');
  });
  it('refuses a wrong key and tampered values', () => {
    const box = SecretBox.fromKeyFile(join(dir, 'secret.key'));
    const sealed = box.encrypt('x');
    const other = SecretBox.fromKeyFile(join(dir, 'other.key'));
    expect(() => other.decrypt(sealed)).toThrow(SecretError);
    const raw = Buffer.from(sealed.slice(3), 'base64');
    raw[raw.length - 1] ^= 1;
    expect(() => box.decrypt(`v1:${raw.toString('base64')}`)).toThrow(/tampered/);
    expect(readFileSync(join(dir, 'secret.key'), 'utf8')).not.toBe(readFileSync(join(dir, 'other.key'), 'utf8'));
  });
  it('describes secrets without revealing them', () => {
    expect(describeSecret('v1:abc')).toEqual({ set: true });
    expect(describeSecret(null)).toEqual({ set: false });
  });
});
