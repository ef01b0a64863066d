/**
 * The changes repository on every state-store dialect (SQLite and PostgreSQL): writes, range and
 * filter reads newest first, deletion of redundant detected deploys, and the versions change detection
 * is seeded with after a restart.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ChangeService } from '../src/changes/service.ts';
import { ChangeRepo, type NewChange } from '../src/store/state/changes.ts';
import type { StateDb } from '../src/store/state/db.ts';
import { STATE_BACKENDS as backends } from './helpers/state-backends.ts';

// Epoch milliseconds in 2026: beyond 32 bits.
const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);
const MIN = 60_000;

function change(over: Partial<NewChange> = {}): NewChange {
  return {
    at: T0,
    service: 'lms-api',
    namespace: 'lms',
    kind: 'deploy',
    version: '2.5.0',
    previousVersion: '2.4.1',
    description: 'lms-api deployed: 2.4.1 → 2.5.0',
    author: 'ci',
    commit: 'abc123',
    source: 'api',
    attributes: { reporter: 'github-actions', run: 42, canary: false },
    createdAt: T0 + 5,
    ...over,
  };
}

describe.each(backends)('changes on $name', (backend) => {
  let db: StateDb;
  let close: () => Promise<void>;
  let repo: ChangeRepo;
  beforeAll(async () => {
    ({ db, close } = await backend.open());
    repo = new ChangeRepo(db);
  });
  afterAll(async () => close?.());
  beforeEach(async () => {
    await db.deleteFrom('changes').execute();
  });

  it('stores a change with every field and reads it back', async () => {
    const id = await repo.insert(change());
    expect(id).toBeGreaterThan(0);
    expect(await repo.get(id)).toEqual({ id, ...change() });
    expect(await repo.get(id + 1000)).toBeUndefined();
    const bare = await repo.insert(change({ version: null, previousVersion: null, author: null, commit: null, attributes: {}, kind: 'config', namespace: '', description: "it's \"quoted\" ✓" }));
    expect(await repo.get(bare)).toMatchObject({ version: null, author: null, commit: null, attributes: {}, kind: 'config', description: "it's \"quoted\" ✓" });
  });

  it('lists a time range newest first, filtered by service, kinds, sources and version, with a limit', async () => {
    await repo.insert(change({ at: T0 - 2 * MIN, kind: 'config', version: null }));
    await repo.insert(change({ at: T0 }));
    await repo.insert(change({ at: T0 + MIN, service: 'rms-api', version: '1.5.0' }));
    await repo.insert(change({ at: T0 + 2 * MIN, source: 'detected' }));
    await repo.insert(change({ at: T0 + 10 * MIN }));
    const all = await repo.list({ from: T0 - 5 * MIN, to: T0 + 10 * MIN });
    expect(all.map((c) => c.at)).toEqual([T0 + 2 * MIN, T0 + MIN, T0, T0 - 2 * MIN]);
    expect((await repo.list({ from: T0 - 5 * MIN, to: T0 + 10 * MIN, service: 'lms-api' })).map((c) => c.at)).toEqual([T0 + 2 * MIN, T0, T0 - 2 * MIN]);
    expect((await repo.list({ from: T0 - 5 * MIN, to: T0 + 11 * MIN, kinds: ['config', 'rollback'] })).map((c) => c.kind)).toEqual(['config']);
    expect((await repo.list({ from: T0 - 5 * MIN, to: T0 + 11 * MIN, sources: ['detected'] })).map((c) => c.at)).toEqual([T0 + 2 * MIN]);
    expect((await repo.list({ from: T0 - 5 * MIN, to: T0 + 11 * MIN, version: '1.5.0' })).map((c) => c.service)).toEqual(['rms-api']);
    expect((await repo.list({ from: T0 - 5 * MIN, to: T0 + 11 * MIN, limit: 2 })).map((c) => c.at)).toEqual([T0 + 10 * MIN, T0 + 2 * MIN]);
    // User text is a parameter, never SQL.
    expect(await repo.list({ from: 0, to: T0 * 2, service: "x' OR '1'='1" })).toEqual([]);
  });

  it('seeds detection with the version each service was last deployed or rolled back to', async () => {
    await repo.insert(change({ at: T0, version: '2.5.0' }));
    await repo.insert(change({ at: T0 + MIN, kind: 'rollback', version: '2.4.1' }));
    await repo.insert(change({ at: T0 + 2 * MIN, kind: 'config', version: null }));
    await repo.insert(change({ at: T0 + 3 * MIN, kind: 'infrastructure', version: '9.9.9' }));
    await repo.insert(change({ at: T0, service: 'rms-api', version: '1.5.0', source: 'detected' }));
    expect(Object.fromEntries(await repo.latestVersions())).toEqual({ 'lms-api': '2.4.1', 'rms-api': '1.5.0' });
  });

  it('a posted deploy replaces a detected one of the same service and version within ten minutes', async () => {
    const service = new ChangeService({ repo, now: () => T0 + 20 * MIN });
    const detected = await repo.insert(change({ at: T0, source: 'detected', author: null, commit: null }));
    const otherVersion = await repo.insert(change({ at: T0, source: 'detected', version: '2.6.0' }));
    const tooEarly = await repo.insert(change({ at: T0 - 11 * MIN, source: 'detected' }));
    const posted = await service.record(change({ at: T0 + 3 * MIN }));
    const ids = (await repo.list({ from: 0, to: T0 * 2 })).map((c) => c.id).sort((a, b) => a - b);
    expect(ids).toEqual([otherVersion, tooEarly, posted].sort((a, b) => a - b));
    expect(ids).not.toContain(detected);
  });
});
