/**
 * Server-side sessions: the cookie carries a random id, the store keeps only its hash, so a leaked
 * database yields no usable session. Sessions end on logout, on password change, after an idle
 * period and after an absolute lifetime — whichever comes first.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { StateDb } from './db.ts';

/** Session lifetimes in milliseconds. */
export interface SessionPolicy {
  idleMs: number;
  absoluteMs: number;
}

/** A live session. */
export interface Session {
  idHash: string;
  userId: number;
  csrfToken: string;
  createdAt: string;
  lastSeenAt: string;
}

const hash = (id: string) => createHash('sha256').update(id).digest('hex');

// Touching last-seen on every request would make each API call a write; once a minute suffices.
const TOUCH_EVERY_MS = 60_000;

/** Session operations on the state store. */
export class SessionStore {
  constructor(
    private readonly db: StateDb,
    private readonly policy: SessionPolicy,
  ) {}

  /** Starts a session; returns the cookie value (shown to the browser only) and the session. */
  async create(userId: number, meta: { ip?: string; userAgent?: string }, now = new Date()): Promise<{ cookie: string; session: Session }> {
    const id = randomBytes(32).toString('base64url');
    const session: Session = { idHash: hash(id), userId, csrfToken: randomBytes(24).toString('base64url'), createdAt: now.toISOString(), lastSeenAt: now.toISOString() };
    await this.db
      .insertInto('sessions')
      .values({ id_hash: session.idHash, user_id: userId, csrf_token: session.csrfToken, created_at: session.createdAt, last_seen_at: session.lastSeenAt, ip: meta.ip ?? null, user_agent: meta.userAgent?.slice(0, 300) ?? null })
      .execute();
    return { cookie: id, session };
  }

  /** The live session for a cookie value, or undefined (expired sessions are deleted on sight). */
  async get(cookie: string, now = new Date()): Promise<Session | undefined> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(cookie)) return undefined;
    const idHash = hash(cookie);
    const r = await this.db.selectFrom('sessions').selectAll().where('id_hash', '=', idHash).executeTakeFirst();
    if (!r) return undefined;
    const t = now.getTime();
    if (t - Date.parse(r.last_seen_at) > this.policy.idleMs || t - Date.parse(r.created_at) > this.policy.absoluteMs) {
      await this.db.deleteFrom('sessions').where('id_hash', '=', idHash).execute();
      return undefined;
    }
    if (t - Date.parse(r.last_seen_at) > TOUCH_EVERY_MS) {
      await this.db.updateTable('sessions').set({ last_seen_at: now.toISOString() }).where('id_hash', '=', idHash).execute();
    }
    return { idHash, userId: r.user_id, csrfToken: r.csrf_token, createdAt: r.created_at, lastSeenAt: r.last_seen_at };
  }

  /** Ends one session. */
  async revoke(idHash: string): Promise<void> {
    await this.db.deleteFrom('sessions').where('id_hash', '=', idHash).execute();
  }

  /** Ends every session of a user, except `keep` (the one changing the password). */
  async revokeAllFor(userId: number, keep?: string): Promise<number> {
    let q = this.db.deleteFrom('sessions').where('user_id', '=', userId);
    if (keep) q = q.where('id_hash', '<>', keep);
    const r = await q.executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}

/** Failed-login bookkeeping for rate limiting and lockout. */
export class LoginThrottle {
  constructor(
    private readonly db: StateDb,
    private readonly opts: { windowMs: number; maxPerUser: number; maxPerIp: number },
  ) {}

  /** Seconds until login may be tried again for this user from this address, or 0. */
  async lockedFor(username: string, ip: string, now = new Date()): Promise<number> {
    const since = new Date(now.getTime() - this.opts.windowMs).toISOString();
    const count = async (column: 'username' | 'ip', value: string) => {
      const r = await this.db
        .selectFrom('login_failures')
        .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.min('at').as('first')])
        .where(column, '=', value)
        .where('at', '>', since)
        .executeTakeFirst();
      return { n: Number(r?.n ?? 0), first: r?.first ? String(r.first) : undefined };
    };
    for (const [c, max] of [[await count('username', username.toLowerCase()), this.opts.maxPerUser], [await count('ip', ip), this.opts.maxPerIp]] as const) {
      if (c.n >= max && c.first) return Math.max(1, Math.ceil((Date.parse(c.first) + this.opts.windowMs - now.getTime()) / 1000));
    }
    return 0;
  }

  async recordFailure(username: string, ip: string, now = new Date()): Promise<void> {
    await this.db.insertInto('login_failures').values({ username: username.toLowerCase(), ip, at: now.toISOString() }).execute();
    // Old rows are of no use; trimming here keeps the table small without a job.
    await this.db.deleteFrom('login_failures').where('at', '<', new Date(now.getTime() - 24 * 3_600_000).toISOString()).execute();
  }

  async clear(username: string): Promise<void> {
    await this.db.deleteFrom('login_failures').where('username', '=', username.toLowerCase()).execute();
  }
}
