/**
 * Silences on every state-store dialect (SQLite and PostgreSQL): Alertmanager's update rules, states,
 * matching, garbage collection, and a fresh instance (a restart) seeing exactly what was written.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AmPostableSilence } from '../src/api/contract.ts';
import { SILENCE_RETENTION_MS, SilenceError, Silences } from '../src/alerting/notify/silences.ts';
import type { StateDb } from '../src/store/state/db.ts';
import { SilenceRepo } from '../src/store/state/silences.ts';
import { STATE_BACKENDS as backends } from './helpers/state-backends.ts';

// Epoch milliseconds in 2026: beyond 32 bits.
const T0 = Date.UTC(2026, 10, 30, 12, 0, 0);
const MIN = 60_000;
const HOUR = 60 * MIN;
const iso = (ms: number) => new Date(ms).toISOString();

function postable(over: Partial<AmPostableSilence> = {}): AmPostableSilence {
  return {
    matchers: [{ name: 'alertname', value: 'RmsHighErrorRate', isRegex: false, isEqual: true }],
    startsAt: iso(T0),
    endsAt: iso(T0 + 2 * HOUR),
    createdBy: 'oncall',
    comment: 'deploy in progress',
    ...over,
  };
}

async function refused(p: Promise<unknown>): Promise<SilenceError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(SilenceError);
    return err as SilenceError;
  }
  throw new Error('expected the write to be refused');
}

describe.each(backends)('silences on $name', (backend) => {
  let db: StateDb;
  let close: () => Promise<void>;
  let repo: SilenceRepo;
  let silences: Silences;
  beforeAll(async () => {
    ({ db, close } = await backend.open());
    repo = new SilenceRepo(db);
  });
  afterAll(async () => close?.());
  beforeEach(async () => {
    await db.deleteFrom('silences').execute();
    silences = new Silences(repo);
    await silences.load();
  });

  it('creates a silence that mutes matching alerts while active, and survives a restart', async () => {
    const id = await silences.upsert(postable({ matchers: [{ name: 'alertname', value: 'Rms.*', isRegex: true, isEqual: true }, { name: 'env', value: 'dev', isRegex: false, isEqual: false }] }), T0);
    expect(silences.mutes({ alertname: 'RmsDown', env: 'prod' }, T0 + MIN)).toEqual([id]);
    expect(silences.mutes({ alertname: 'RmsDown', env: 'dev' }, T0 + MIN)).toEqual([]);
    expect(silences.mutes({ alertname: 'LmsDown' }, T0 + MIN)).toEqual([]);
    // The end is exclusive: at endsAt the silence is expired.
    expect(silences.mutes({ alertname: 'RmsDown' }, T0 + 2 * HOUR - 1)).toEqual([id]);
    expect(silences.mutes({ alertname: 'RmsDown' }, T0 + 2 * HOUR)).toEqual([]);

    const restarted = new Silences(new SilenceRepo(db));
    await restarted.load();
    expect(restarted.get(id, T0)).toEqual(silences.get(id, T0));
    expect(restarted.get(id, T0)).toMatchObject({ startsAt: T0, endsAt: T0 + 2 * HOUR, createdBy: 'oncall', comment: 'deploy in progress', updatedAt: T0, state: 'active' });
    expect(restarted.mutes({ alertname: 'RmsDown', env: 'prod' }, T0 + MIN)).toEqual([id]);
  });

  it('moves a start in the past to now, and reports pending, active and expired in Alertmanager order', async () => {
    const past = await silences.upsert(postable({ startsAt: iso(T0 - HOUR) }), T0);
    expect(silences.get(past, T0)!.startsAt).toBe(T0);
    const pending = await silences.upsert(postable({ startsAt: iso(T0 + HOUR), endsAt: iso(T0 + 3 * HOUR) }), T0);
    const soon = await silences.upsert(postable({ endsAt: iso(T0 + 30 * MIN) }), T0);
    const expired = await silences.upsert(postable({ endsAt: iso(T0 + 10 * MIN) }), T0);
    const now = T0 + 20 * MIN;
    expect(silences.list(now).map((s) => [s.id, s.state])).toEqual([
      [soon, 'active'],
      [past, 'active'],
      [pending, 'pending'],
      [expired, 'expired'],
    ]);
    expect(silences.mutes({ alertname: 'RmsHighErrorRate' }, now)).toEqual([past, soon].sort());
  });

  it('updates in place when history stays the same: a pending silence, or an active one extended', async () => {
    const pending = await silences.upsert(postable({ startsAt: iso(T0 + HOUR), endsAt: iso(T0 + 2 * HOUR) }), T0);
    expect(await silences.upsert(postable({ id: pending, startsAt: iso(T0 + 30 * MIN), endsAt: iso(T0 + 4 * HOUR), comment: 'longer' }), T0 + MIN)).toBe(pending);
    expect(silences.get(pending, T0 + MIN)).toMatchObject({ startsAt: T0 + 30 * MIN, endsAt: T0 + 4 * HOUR, comment: 'longer', updatedAt: T0 + MIN });

    const active = await silences.upsert(postable(), T0);
    expect(await silences.upsert(postable({ id: active, endsAt: iso(T0 + 5 * HOUR) }), T0 + HOUR)).toBe(active);
    expect((await repo.get(active))!.endsAt).toBe(T0 + 5 * HOUR);
    expect(silences.list(T0 + HOUR)).toHaveLength(2);
  });

  it('expires an active silence and creates a new one when its matchers or start change', async () => {
    const id = await silences.upsert(postable(), T0);
    const now = T0 + HOUR;
    const replaced = await silences.upsert(postable({ id, matchers: [{ name: 'alertname', value: 'Other', isRegex: false, isEqual: true }] }), now);
    expect(replaced).not.toBe(id);
    expect(silences.get(id, now)).toMatchObject({ state: 'expired', endsAt: now });
    expect(silences.get(replaced, now)).toMatchObject({ state: 'active', startsAt: now });
    expect(silences.mutes({ alertname: 'RmsHighErrorRate' }, now)).toEqual([]);
    expect(silences.mutes({ alertname: 'Other' }, now)).toEqual([replaced]);

    const moved = await silences.upsert(postable({ id: replaced, startsAt: iso(now + MIN), endsAt: iso(now + HOUR) }), now);
    expect(moved).not.toBe(replaced);
    expect(silences.get(replaced, now)!.state).toBe('expired');
    expect(silences.get(moved, now)).toMatchObject({ state: 'pending', startsAt: now + MIN });

    // An expired silence is never changed: updating it creates a new one.
    const again = await silences.upsert(postable({ id, endsAt: iso(now + 2 * HOUR) }), now);
    expect(again).not.toBe(id);
    expect(silences.get(id, now)).toMatchObject({ state: 'expired', endsAt: now });
  });

  it('expires active and pending silences; an expired or unknown one is an error', async () => {
    const active = await silences.upsert(postable(), T0);
    const pending = await silences.upsert(postable({ startsAt: iso(T0 + HOUR), endsAt: iso(T0 + 2 * HOUR) }), T0);
    await silences.expire(active, T0 + MIN);
    await silences.expire(pending, T0 + MIN);
    expect(silences.get(active, T0 + MIN)).toMatchObject({ state: 'expired', startsAt: T0, endsAt: T0 + MIN });
    // A pending silence becomes one that never started.
    expect(silences.get(pending, T0 + MIN)).toMatchObject({ state: 'expired', startsAt: T0 + MIN, endsAt: T0 + MIN });
    expect(silences.mutes({ alertname: 'RmsHighErrorRate' }, T0 + MIN)).toEqual([]);
    expect((await refused(silences.expire(active, T0 + 2 * MIN))).code).toBe('expired');
    expect((await refused(silences.expire('nope', T0))).code).toBe('not_found');
    expect((await refused(silences.upsert(postable({ id: 'nope' }), T0))).code).toBe('not_found');
    const restarted = new Silences(repo);
    await restarted.load();
    expect(restarted.get(pending, T0 + MIN)!.state).toBe('expired');
  });

  it.each([
    ['no matcher', { matchers: [] }, 'matchers: at least one matcher is required'],
    ['only matchers of the empty string', { matchers: [{ name: 'a', value: '.*', isRegex: true, isEqual: true }, { name: 'b', value: 'x', isRegex: false, isEqual: false }] }, 'matchers: at least one matcher must not match the empty string'],
    ['a bad label name', { matchers: [{ name: 'service.name', value: 'x', isRegex: false, isEqual: true }] }, 'matchers[0].name: invalid label name "service.name"'],
    ['a bad regex', { matchers: [{ name: 'a', value: '(', isRegex: true, isEqual: true }] }, 'matchers[0].value: invalid regex'],
    ['an end before the start', { endsAt: iso(T0 - MIN) }, 'endsAt: end time must be after start time'],
    ['an end in the past', { startsAt: iso(T0 - 2 * HOUR), endsAt: iso(T0 - HOUR) }, "endsAt: end time can't be in the past"],
    ['a bad time', { startsAt: 'yesterday' }, 'startsAt: expected an RFC 3339 time'],
  ] as [string, Partial<AmPostableSilence>, string][])('refuses %s, naming the field', async (_, over, message) => {
    const err = await refused(silences.upsert(postable(over), T0));
    expect(err.code).toBe('invalid');
    expect(err.message.startsWith(message)).toBe(true);
    expect(await repo.list()).toEqual([]);
  });

  it('forgets silences expired for more than five days', async () => {
    const old = await silences.upsert(postable({ endsAt: iso(T0 + MIN) }), T0);
    const recent = await silences.upsert(postable({ endsAt: iso(T0 + 2 * HOUR) }), T0);
    expect(await silences.gc(T0 + MIN + SILENCE_RETENTION_MS)).toBe(0);
    expect(await silences.gc(T0 + MIN + SILENCE_RETENTION_MS + 1)).toBe(1);
    expect(silences.get(old, T0)).toBeUndefined();
    expect(silences.get(recent, T0)).toBeDefined();
    expect((await repo.list()).map((s) => s.id)).toEqual([recent]);
  });

  it('serializes concurrent writes to one silence', async () => {
    const id = await silences.upsert(postable(), T0);
    const ids = await Promise.all([1, 2, 3].map((h) => silences.upsert(postable({ id, endsAt: iso(T0 + (2 + h) * HOUR) }), T0 + MIN)));
    expect(ids).toEqual([id, id, id]);
    expect((await repo.get(id))!.endsAt).toBe(T0 + 5 * HOUR);
  });
});
