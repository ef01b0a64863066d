/**
 * Silences with Alertmanager's semantics (silence/silence.go and the API v2 handlers): a silence is
 * pending before its start, active from its start until its end, expired after; updating a silence in
 * a way that would rewrite what it already silenced (other matchers, another start once active) expires
 * it and creates a new one. Silences are persisted before a write returns, and kept in memory for
 * `mutes`, which runs on every notification.
 *
 *   state    | now < startsAt | startsAt <= now < endsAt | endsAt <= now
 *   ---------+----------------+--------------------------+--------------
 *            | pending        | active                   | expired
 */
import { randomUUID } from 'node:crypto';
import type { AmGettableSilence, AmMatcher, AmPostableSilence } from '../../api/contract.ts';
import type { SilenceRecord, SilenceRepo } from '../../store/state/silences.ts';
import type { Labels } from '../types.ts';
import { fromAmMatcher, matches, matchesValue, type Matcher } from './matchers.ts';

/** A silence's state at a moment. */
export type SilenceState = 'pending' | 'active' | 'expired';

/** Expired silences are forgotten after this long (Alertmanager's default retention, 120h). */
export const SILENCE_RETENTION_MS = 5 * 86_400_000;

/** A refused silence write: `field` names what is wrong, `code` what the API answers. */
export class SilenceError extends Error {
  constructor(
    readonly code: 'invalid' | 'not_found' | 'expired',
    readonly field: string | null,
    message: string,
  ) {
    super(field ? `${field}: ${message}` : message);
  }
}

/** A silence with its state. */
export interface SilenceView extends SilenceRecord {
  state: SilenceState;
}

/** The state of a silence at `now`. */
export function silenceState(s: Pick<SilenceRecord, 'startsAt' | 'endsAt'>, now: number): SilenceState {
  if (now < s.startsAt) return 'pending';
  if (now >= s.endsAt) return 'expired';
  return 'active';
}

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Validates and compiles a silence's matchers (errors name `matchers[i]`). */
function compile(ms: readonly AmMatcher[]): Matcher[] {
  if (!Array.isArray(ms) || ms.length === 0) throw new SilenceError('invalid', 'matchers', 'at least one matcher is required');
  const out = ms.map((m, i) => {
    if (typeof m?.name !== 'string' || !LABEL_NAME.test(m.name)) throw new SilenceError('invalid', `matchers[${i}].name`, `invalid label name ${JSON.stringify(m?.name)}`);
    if (typeof m.value !== 'string') throw new SilenceError('invalid', `matchers[${i}].value`, 'expected a string');
    try {
      return fromAmMatcher(m);
    } catch (err) {
      throw new SilenceError('invalid', `matchers[${i}].value`, (err as Error).message);
    }
  });
  // A silence whose every matcher accepts a missing label would silence every alert.
  if (out.every((m) => matchesValue(m, ''))) throw new SilenceError('invalid', 'matchers', 'at least one matcher must not match the empty string');
  return out;
}

/** The same matchers in the same order (Alertmanager compares them exactly). */
function sameMatchers(a: readonly AmMatcher[], b: readonly AmMatcher[]): boolean {
  const key = (ms: readonly AmMatcher[]) => JSON.stringify(ms.map((m) => [m.name, m.value, m.isRegex, m.isEqual ?? true]));
  return key(a) === key(b);
}

function parseTime(field: string, text: unknown): number {
  const ms = typeof text === 'string' ? Date.parse(text) : NaN;
  if (!Number.isFinite(ms) || ms <= 0) throw new SilenceError('invalid', field, `expected an RFC 3339 time, got ${JSON.stringify(text)}`);
  return ms;
}

/** Whether `prev` can be changed into `next` without rewriting what it silenced so far (Alertmanager's canUpdate). */
function canUpdate(prev: SilenceRecord, next: Pick<SilenceRecord, 'matchers' | 'startsAt' | 'endsAt'>, now: number): boolean {
  if (!sameMatchers(prev.matchers, next.matchers)) return false;
  switch (silenceState(prev, now)) {
    case 'active':
      return next.startsAt === prev.startsAt && next.endsAt >= now;
    case 'pending':
      return next.startsAt >= now;
    case 'expired':
      return false;
  }
}

const STATE_ORDER: Record<SilenceState, number> = { active: 0, pending: 1, expired: 2 };

/** Alertmanager's listing order: active by end, pending by start, expired newest end first. */
function compareViews(a: SilenceView, b: SilenceView): number {
  if (a.state !== b.state) return STATE_ORDER[a.state] - STATE_ORDER[b.state];
  if (a.state === 'active') return a.endsAt - b.endsAt;
  if (a.state === 'pending') return a.startsAt - b.startsAt;
  return b.endsAt - a.endsAt;
}

/** A time as the API v2 prints it. */
const iso = (ms: number) => new Date(ms).toISOString();

/** A silence in the API v2 shape. */
export function toGettableSilence(s: SilenceView): AmGettableSilence {
  return {
    id: s.id,
    status: { state: s.state },
    updatedAt: iso(s.updatedAt),
    matchers: s.matchers.map((m) => ({ name: m.name, value: m.value, isRegex: m.isRegex, isEqual: m.isEqual ?? true })),
    startsAt: iso(s.startsAt),
    endsAt: iso(s.endsAt),
    createdBy: s.createdBy,
    comment: s.comment,
  };
}

/** The silences of the instance: persisted through the repository, matched from memory. */
export class Silences {
  private readonly byId = new Map<string, { rec: SilenceRecord; matchers: Matcher[] }>();
  // Writes run one after another: an update reads the silence it replaces.
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly repo: SilenceRepo) {}

  /** Loads every stored silence into memory (once, at start). */
  async load(): Promise<void> {
    const all = await this.repo.list();
    this.byId.clear();
    for (const rec of all) {
      try {
        this.byId.set(rec.id, { rec, matchers: rec.matchers.map(fromAmMatcher) });
      } catch {
        // A stored matcher that no longer compiles (a regex limit lowered) silences nothing.
        this.byId.set(rec.id, { rec, matchers: [] });
      }
    }
  }

  private serialize<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Every silence with its state at `now`, in Alertmanager's order. */
  list(now: number): SilenceView[] {
    return [...this.byId.values()].map(({ rec }) => ({ ...rec, state: silenceState(rec, now) })).sort(compareViews);
  }

  /** One silence with its state at `now`. */
  get(id: string, now: number): SilenceView | undefined {
    const e = this.byId.get(id);
    return e ? { ...e.rec, state: silenceState(e.rec, now) } : undefined;
  }

  /**
   * Creates a silence, or updates the one with `postable.id`; resolves with the id of the silence that
   * now holds it (a new id when the old silence could not be changed in place and was expired instead).
   */
  upsert(postable: AmPostableSilence, now: number): Promise<string> {
    return this.serialize(async () => {
      const matchers = compile(postable.matchers);
      const startsAt = parseTime('startsAt', postable.startsAt);
      const endsAt = parseTime('endsAt', postable.endsAt);
      if (endsAt <= startsAt) throw new SilenceError('invalid', 'endsAt', 'end time must be after start time');
      if (endsAt <= now) throw new SilenceError('invalid', 'endsAt', "end time can't be in the past");
      const base = {
        matchers: postable.matchers.map((m) => ({ name: m.name, value: m.value, isRegex: m.isRegex === true, isEqual: m.isEqual ?? true })),
        startsAt,
        endsAt,
        createdBy: typeof postable.createdBy === 'string' ? postable.createdBy : '',
        comment: typeof postable.comment === 'string' ? postable.comment : '',
        updatedAt: now,
      };
      if (postable.id) {
        const prev = this.byId.get(postable.id);
        if (!prev) throw new SilenceError('not_found', 'id', `silence ${postable.id} not found`);
        if (canUpdate(prev.rec, base, now)) {
          const rec = { ...base, id: postable.id };
          await this.repo.upsert(rec);
          this.byId.set(rec.id, { rec, matchers });
          return rec.id;
        }
        // Changing it in place would rewrite history: expire it and create a new one.
        if (silenceState(prev.rec, now) !== 'expired') await this.expireNow(prev.rec, now);
      }
      // A silence never starts in the past: what was sent before it was not silenced.
      const rec: SilenceRecord = { ...base, id: randomUUID(), startsAt: Math.max(startsAt, now) };
      await this.repo.upsert(rec);
      this.byId.set(rec.id, { rec, matchers });
      return rec.id;
    });
  }

  private async expireNow(rec: SilenceRecord, now: number): Promise<void> {
    // A pending silence becomes one that never started; an active one ends now.
    const next: SilenceRecord = silenceState(rec, now) === 'pending' ? { ...rec, startsAt: now, endsAt: now, updatedAt: now } : { ...rec, endsAt: now, updatedAt: now };
    await this.repo.upsert(next);
    const e = this.byId.get(rec.id);
    this.byId.set(rec.id, { rec: next, matchers: e?.matchers ?? [] });
  }

  /** Expires a silence now (Alertmanager: an already expired silence is an error). */
  expire(id: string, now: number): Promise<void> {
    return this.serialize(async () => {
      const e = this.byId.get(id);
      if (!e) throw new SilenceError('not_found', 'id', `silence ${id} not found`);
      if (silenceState(e.rec, now) === 'expired') throw new SilenceError('expired', 'id', `silence ${id} already expired`);
      await this.expireNow(e.rec, now);
    });
  }

  /** The ids of the active silences that match `labels` at `now` (empty: not silenced). */
  mutes(labels: Labels, now: number): string[] {
    const out: string[] = [];
    for (const { rec, matchers: ms } of this.byId.values()) {
      if (ms.length > 0 && silenceState(rec, now) === 'active' && matches(ms, labels)) out.push(rec.id);
    }
    return out.sort();
  }

  /** Forgets silences expired for longer than the retention; returns how many. */
  gc(now: number): Promise<number> {
    return this.serialize(async () => {
      const before = now - SILENCE_RETENTION_MS;
      const n = await this.repo.deleteEndedBefore(before);
      for (const [id, e] of this.byId) if (e.rec.endsAt < before) this.byId.delete(id);
      return n;
    });
  }
}
