/**
 * Users and their roles. Passwords are hashed with scrypt (memory-hard, in node:crypto) with a
 * per-user salt; verification is constant-time.
 */
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import type { StateDb } from './db.ts';

/** What a user may do: admin everything; responder acts on incidents, alerts, dashboards; viewer reads. */
export const ROLES = ['admin', 'responder', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

/** A user as the API shows it. */
export interface User {
  id: number;
  username: string;
  role: Role;
  createdAt: string;
  passwordChangedAt: string;
}

/** A user error reported as it is (bad name, weak password, duplicate). */
export class UserError extends Error {}

const SCRYPT: ScryptOptions = { N: 16384, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };
const KEY_LENGTH = 32;

function scrypt(password: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scryptCb(password, salt, KEY_LENGTH, options, (err, key) => (err ? reject(err) : resolve(key))));
}

/** Hashes a password as `scrypt$N$r$p$salt$hash` (base64url parts). */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, SCRYPT);
  return ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

/** Checks a password against a stored hash in constant time. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const key = await scrypt(password, Buffer.from(salt, 'base64url'), { N: Number(n), r: Number(r), p: Number(p), maxmem: SCRYPT.maxmem });
  return key.length === expected.length && timingSafeEqual(key, expected);
}

// A hash of a random password: verifying unknown users costs the same time as known ones.
const DUMMY_HASH = hashPassword(randomBytes(16).toString('hex'));

/** Checks a new password; returns the problem or undefined. */
export function passwordProblem(password: string): string | undefined {
  if (password.length < 10) return 'password must have at least 10 characters';
  if (password.length > 256) return 'password must have at most 256 characters';
  return undefined;
}

/** A random password for bootstrap and resets, shown once. */
export function randomPassword(): string {
  return randomBytes(18).toString('base64url');
}

type Row = { id: number; username: string; role: string; created_at: string; password_changed_at: string };
const toUser = (r: Row): User => ({ id: r.id, username: r.username, role: r.role as Role, createdAt: r.created_at, passwordChangedAt: r.password_changed_at });

/** User operations on the state store. */
export class UserStore {
  constructor(private readonly db: StateDb) {}

  /** Creates a user. */
  async create(input: { username: string; password: string; role: string }, now = new Date()): Promise<User> {
    if (!/^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/.test(input.username)) {
      throw new UserError(`invalid username "${input.username.slice(0, 80)}": use 1-64 letters, digits, '.', '_', '@' or '-'`);
    }
    if (!(ROLES as readonly string[]).includes(input.role)) throw new UserError(`invalid role "${input.role.slice(0, 40)}": expected one of ${ROLES.join(', ')}`);
    const problem = passwordProblem(input.password);
    if (problem) throw new UserError(problem);
    if (await this.byName(input.username)) throw new UserError(`a user named "${input.username}" already exists`);
    const at = now.toISOString();
    const row = await this.db
      .insertInto('users')
      .values({ username: input.username, role: input.role, password_hash: await hashPassword(input.password), created_at: at, password_changed_at: at })
      .returning(['id', 'username', 'role', 'created_at', 'password_changed_at'])
      .executeTakeFirstOrThrow();
    return toUser(row);
  }

  /** Number of users (0 on first run). */
  async count(): Promise<number> {
    const r = await this.db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
    return Number(r?.n ?? 0);
  }

  async list(): Promise<User[]> {
    return (await this.db.selectFrom('users').select(['id', 'username', 'role', 'created_at', 'password_changed_at']).orderBy('username').execute()).map(toUser);
  }

  async byName(username: string): Promise<User | undefined> {
    const r = await this.db.selectFrom('users').select(['id', 'username', 'role', 'created_at', 'password_changed_at']).where('username', '=', username).executeTakeFirst();
    return r ? toUser(r) : undefined;
  }

  async byId(id: number): Promise<User | undefined> {
    const r = await this.db.selectFrom('users').select(['id', 'username', 'role', 'created_at', 'password_changed_at']).where('id', '=', id).executeTakeFirst();
    return r ? toUser(r) : undefined;
  }

  /** Returns the user when the password is right; takes the same time whether or not the user exists. */
  async authenticate(username: string, password: string): Promise<User | undefined> {
    const r = await this.db.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst();
    const ok = await verifyPassword(password, r?.password_hash ?? (await DUMMY_HASH));
    return r && ok ? toUser(r) : undefined;
  }

  /** Sets a new password (callers also end the user's sessions). */
  async setPassword(id: number, password: string, now = new Date()): Promise<void> {
    const problem = passwordProblem(password);
    if (problem) throw new UserError(problem);
    await this.db.updateTable('users').set({ password_hash: await hashPassword(password), password_changed_at: now.toISOString() }).where('id', '=', id).execute();
  }

  async setRole(id: number, role: string): Promise<void> {
    if (!(ROLES as readonly string[]).includes(role)) throw new UserError(`invalid role "${role.slice(0, 40)}": expected one of ${ROLES.join(', ')}`);
    await this.db.updateTable('users').set({ role }).where('id', '=', id).execute();
  }

  async delete(id: number): Promise<void> {
    await this.db.deleteFrom('users').where('id', '=', id).execute();
  }
}
