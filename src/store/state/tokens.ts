/**
 * API tokens: random secrets shown once, stored as SHA-256 hashes (they carry 256 bits of entropy,
 * so a slow password hash would add latency to every request and no security).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { TokenInfo } from '../../api/contract.ts';
import type { StateDb } from './db.ts';

/** What a token may do; admin may do everything. */
export const TOKEN_SCOPES = ['ingest', 'read', 'write', 'admin'] as const;
export type TokenScope = (typeof TOKEN_SCOPES)[number];

/** A token as listed (never with its secret), as the API answers it. */
export type { TokenInfo };

/** A token error the CLI and API report as they are. */
export class TokenError extends Error {}

function hash(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

// The largest per-token limit: the column is a 32-bit integer on PostgreSQL (SQLite would take more).
const MAX_RATE_LIMIT = 2_147_483_647;

// Writing last-used on every request would turn each ingest call into a write; once a minute is enough.
const LAST_USED_PRECISION_MS = 60_000;

/** Token operations on the state store. */
export class TokenStore {
  private readonly lastUsedWritten = new Map<string, number>();
  constructor(private readonly db: StateDb) {}

  /** Creates a token and returns its secret, which is not stored and cannot be shown again. */
  async create(name: string, scope: string, now = new Date(), rateLimit: number | null = null): Promise<string> {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name)) {
      throw new TokenError(`invalid token name "${name.slice(0, 80)}": use 1-64 letters, digits, '.', '_' or '-'`);
    }
    if (!(TOKEN_SCOPES as readonly string[]).includes(scope)) {
      throw new TokenError(`invalid scope "${scope.slice(0, 40)}": expected one of ${TOKEN_SCOPES.join(', ')}`);
    }
    if (rateLimit !== null && !(Number.isInteger(rateLimit) && rateLimit > 0 && rateLimit <= MAX_RATE_LIMIT)) {
      throw new TokenError(`rate limit must be a whole number of records per second from 1 to ${MAX_RATE_LIMIT}`);
    }
    const existing = await this.db.selectFrom('api_tokens').select('id').where('name', '=', name).executeTakeFirst();
    if (existing) throw new TokenError(`a token named "${name}" already exists`);
    const secret = `vgl_${randomBytes(32).toString('base64url')}`;
    await this.db
      .insertInto('api_tokens')
      .values({ name, scope, token_hash: hash(secret), created_at: now.toISOString(), rate_limit: rateLimit })
      .execute();
    return secret;
  }

  /** Replaces the token called `name` (active or revoked) with a new one; used for the demo's own token. */
  async rotate(name: string, scope: TokenScope, now = new Date()): Promise<string> {
    await this.db.deleteFrom('api_tokens').where('name', '=', name).execute();
    return this.create(name, scope, now);
  }

  /** Lists tokens, newest first. */
  async list(): Promise<TokenInfo[]> {
    const rows = await this.db.selectFrom('api_tokens').selectAll().orderBy('id', 'desc').execute();
    return rows.map((r) => ({
      name: r.name,
      scope: r.scope as TokenScope,
      createdAt: r.created_at,
      lastUsedAt: r.last_used_at,
      revokedAt: r.revoked_at,
      rateLimit: r.rate_limit,
    }));
  }

  /** Revokes a token by name; it stops working at once, also in a running server. */
  async revoke(name: string, now = new Date()): Promise<void> {
    const r = await this.db
      .updateTable('api_tokens')
      .set({ revoked_at: now.toISOString() })
      .where('name', '=', name)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) === 0) throw new TokenError(`no active token named "${name.slice(0, 80)}"`);
  }

  /** Returns the token's name and scope when the secret is valid and not revoked. */
  async verify(secret: string, now = new Date()): Promise<{ name: string; scope: TokenScope; rateLimit: number | null } | undefined> {
    if (!secret.startsWith('vgl_') || secret.length > 200) return undefined;
    const h = hash(secret);
    const row = await this.db
      .selectFrom('api_tokens')
      .select(['name', 'scope', 'rate_limit'])
      .where('token_hash', '=', h)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    if (!row) return undefined;
    const last = this.lastUsedWritten.get(h) ?? 0;
    if (now.getTime() - last >= LAST_USED_PRECISION_MS) {
      this.lastUsedWritten.set(h, now.getTime());
      await this.db.updateTable('api_tokens').set({ last_used_at: now.toISOString() }).where('token_hash', '=', h).execute();
    }
    return { name: row.name, scope: row.scope as TokenScope, rateLimit: row.rate_limit };
  }
}

/** Whether a token of scope `has` may do what scope `needs` allows. */
export function scopeAllows(has: TokenScope, needs: TokenScope): boolean {
  return has === 'admin' || has === needs;
}
