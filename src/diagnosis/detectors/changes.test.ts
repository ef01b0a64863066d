/**
 * The `changes` detector on a real server: recorded deploys and configuration changes around an onset,
 * out-of-band writes on root spans (merged with an announcement 2 min apart), schema statements, a
 * routine write job left out, and a quiet answer when nothing changed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectorContext, scopeAround } from '../../../test/helpers/diagnosis.ts';
import { minutesAgo, newId, sendSpans, type SpanSpec } from '../../../test/helpers/infra-telemetry.ts';
import { runLinkQueries } from '../../../test/helpers/span-scenario.ts';
import { startTestVigil, type TestVigil } from '../../../test/helpers/vigil.ts';
import type { NewChange } from '../../store/state/changes.ts';
import { changesDetector, configKey, proximityScore } from './changes.ts';
import { dependenciesDetector } from './dependencies.ts';
import { resourcesDetector } from './resources.ts';

const MIN = 60_000;
let v: TestVigil;
const ONSET = minutesAgo(12);
const END = minutesAgo(2);

/** storefront → checkout → ledger, one request a minute over the last 45 minutes. */
function chain(): SpanSpec[] {
  const spans: SpanSpec[] = [];
  for (let t = ONSET - 45 * MIN; t < END; t += MIN) {
    const traceId = newId(16);
    const root = newId(8);
    const c1 = newId(8);
    const s2 = newId(8);
    const c2 = newId(8);
    spans.push(
      { service: 'storefront', traceId, spanId: root, name: 'GET /cart', kind: 'server', startMs: t, durMs: 40, attributes: { 'http.route': '/cart', 'http.request.method': 'GET' } },
      { service: 'storefront', traceId, spanId: c1, parent: root, name: 'POST', kind: 'client', startMs: t + 2, durMs: 30, attributes: { 'peer.service': 'checkout' } },
      { service: 'checkout', traceId, spanId: s2, parent: c1, name: 'POST /checkout', kind: 'server', startMs: t + 3, durMs: 28 },
      { service: 'checkout', traceId, spanId: c2, parent: s2, name: 'POST', kind: 'client', startMs: t + 4, durMs: 20, attributes: { 'peer.service': 'ledger' } },
      { service: 'ledger', traceId, parent: c2, name: 'POST /entries', kind: 'server', startMs: t + 5, durMs: 18 },
    );
  }
  return spans;
}

/** A database span with no parent (a script's or a console's). */
function rootWrite(service: string, atMs: number, statement: string, extra: Record<string, string> = {}): SpanSpec {
  return { service, traceId: newId(16), name: statement.split(' ').slice(0, 2).join(' '), kind: 'client', startMs: atMs, durMs: 4, attributes: { 'db.system': 'postgresql', 'db.statement': statement, ...extra } };
}

function change(c: Partial<NewChange> & Pick<NewChange, 'service' | 'kind' | 'at'>): NewChange {
  return { namespace: '', version: null, previousVersion: null, description: '', author: null, commit: null, source: 'api', attributes: {}, createdAt: Date.now(), ...c };
}

beforeAll(async () => {
  v = await startTestVigil();
  await sendSpans(v.server.urls.otlp, v.ingestToken, [
    ...chain(),
    // ledger: a settings write 3 min before the onset, announced as a config change 1 min before it.
    rootWrite('ledger', ONSET - 3 * MIN, "UPDATE ledger_settings SET value = '1' WHERE key = 'batch.size'", { 'db.collection.name': 'ledger_settings', 'db.operation.name': 'UPDATE' }),
    // checkout: an index dropped 6 min before the onset, from a console.
    rootWrite('checkout', ONSET - 6 * MIN, 'DROP INDEX orders_customer_idx'),
    // search: its index created at start, dropped 9 min before the onset and created again 7 min before.
    rootWrite('search', ONSET - 25 * MIN, 'CREATE INDEX IF NOT EXISTS idx_docs_title ON docs (title)'),
    rootWrite('search', ONSET - 9 * MIN, 'DROP INDEX IF EXISTS idx_docs_title'),
    rootWrite('search', ONSET - 7 * MIN, 'CREATE INDEX IF NOT EXISTS idx_docs_title ON docs (title)'),
    // ledger: a cleanup job deleting old rows every 20 minutes for hours: routine.
    ...Array.from({ length: 12 }, (_, i) => rootWrite('ledger', ONSET - 4 * MIN - i * 20 * MIN, 'DELETE FROM ledger_tmp WHERE created < $1', { 'db.collection.name': 'ledger_tmp' })),
  ]);
  await v.server.changes.record(change({ service: 'checkout', kind: 'deploy', at: ONSET - 5 * MIN, version: '3.1.0', previousVersion: '3.0.2', description: 'release 3.1.0' }));
  await v.server.changes.record(change({ service: 'ledger', kind: 'config', at: ONSET - 2 * MIN, description: 'lower the batch size', attributes: { key: 'batch.size' } }));
  await v.server.changes.record(change({ service: 'checkout', kind: 'deploy', at: ONSET - 50 * MIN, version: '3.0.2' }));
  await v.server.changes.record(change({ service: 'storefront', kind: 'restart', at: ONSET + 5 * MIN, description: 'restarted by the on-call' }));
});

afterAll(async () => {
  await v?.stop();
});

describe('changes detector', () => {
  it('ranks the deploy, the announced config write and the out-of-band schema change before the onset', async () => {
    const started = Date.now();
    const evidence = await changesDetector.run(detectorContext(v.server, scopeAround(ONSET, END, ['storefront'])));
    expect(Date.now() - started).toBeLessThan(5000);
    const by = (component: string) => evidence.find((e) => e.component === component);

    const deploy = by('checkout 3.1.0');
    expect(deploy).toMatchObject({ category: 'change', role: 'cause', services: ['checkout'] });
    expect(deploy!.score).toBeGreaterThan(0.7);
    expect(deploy!.summary).toContain('5 min before the onset');
    expect(deploy!.links[0]!.href).toMatch(/^\/changes\?service=checkout/);

    // The announcement and the write are one evidence, named after the key, mentioning both.
    const config = evidence.filter((e) => e.services[0] === 'ledger' && e.category === 'configuration');
    expect(config).toHaveLength(1);
    expect(config[0]).toMatchObject({ component: 'ledger batch.size', role: 'cause' });
    expect(config[0]!.summary).toMatch(/out-of-band UPDATE on ledger_settings/);
    expect(config[0]!.score).toBeGreaterThan(0.75);
    expect(config[0]!.links.some((l) => l.kind === 'traces' && l.href.includes('parent_span_id'))).toBe(true);

    const schema = evidence.find((e) => e.category === 'database');
    expect(schema).toMatchObject({ component: 'DROP INDEX orders_customer_idx', services: ['checkout'], role: 'cause' });
    expect(schema!.score).toBeGreaterThan(0.6);
    expect(schema!.links.some((l) => l.kind === 'trace')).toBe(true);

    // The routine cleanup job, the deploy long before and the restart after the onset are not causes.
    expect(evidence.some((e) => e.component.includes('ledger_tmp'))).toBe(false);
    expect(by('checkout 3.0.2')).toBeUndefined();
    const restart = evidence.find((e) => e.services[0] === 'storefront');
    expect(restart?.score ?? 0).toBeLessThan(0.3);
    for (const e of evidence) expect(e.links.every((l) => l.href.startsWith('/'))).toBe(true);
    // Every search link opens: its query runs.
    expect(await runLinkQueries(v.server.queries, evidence.flatMap((e) => e.links))).toBeGreaterThanOrEqual(2);
  });

  it('weighs little a change undone before the onset and the rollback that undid it', async () => {
    await v.server.changes.record(change({ service: 'billing', kind: 'config', at: ONSET - 4 * MIN, description: 'raise the limit', attributes: { key: 'charges.max', value: '900' } }));
    await v.server.changes.record(change({ service: 'billing', kind: 'rollback', at: ONSET - 2 * MIN, description: 'limit restored', attributes: { key: 'charges.max', value: '500' } }));
    const evidence = await changesDetector.run(detectorContext(v.server, scopeAround(ONSET, END, ['billing'])));
    const billing = evidence.filter((e) => e.component === 'billing charges.max');
    expect(billing.length).toBeGreaterThan(0);
    expect(billing.every((e) => e.category === 'configuration' && e.score < 0.35)).toBe(true);
  });

  it('weighs little a schema statement undone before the onset, and one that only adds; a dropped index gets its table', async () => {
    const evidence = await changesDetector.run(detectorContext(v.server, scopeAround(ONSET, END, ['search'])));
    const drop = evidence.find((e) => e.component === 'DROP INDEX IF EXISTS idx_docs_title');
    const create = evidence.find((e) => e.component.startsWith('CREATE INDEX IF NOT EXISTS idx_docs_title'));
    expect(drop?.score).toBeLessThan(0.2);
    // The drop names no table; the statement that created the index does (so the ranker can join them).
    expect(drop!.figures.table).toBe('docs');
    expect(create?.score).toBeLessThan(0.4);
    expect(create!.score).toBeGreaterThan(0.2);
  });

  it('is quiet for a service nothing changed around', async () => {
    const evidence = await changesDetector.run(detectorContext(v.server, scopeAround(ONSET - 40 * MIN, ONSET - 30 * MIN, ['ledger'])));
    expect(evidence.filter((e) => e.score >= 0.3)).toEqual([]);
  });

  it('the three infrastructure detectors answer [] quickly on a range without telemetry and on an aborted run', async () => {
    const ac = new AbortController();
    ac.abort();
    for (const d of [changesDetector, dependenciesDetector, resourcesDetector]) {
      const started = Date.now();
      expect(await d.run(detectorContext(v.server, scopeAround(ONSET - 24 * 60 * MIN, ONSET - 23 * 60 * MIN, ['storefront'])))).toEqual([]);
      expect(await d.run(detectorContext(v.server, scopeAround(ONSET - 24 * 60 * MIN, ONSET - 23 * 60 * MIN, [])))).toEqual([]);
      expect(await d.run(detectorContext(v.server, scopeAround(ONSET, END, []), ac.signal))).toEqual([]);
      expect(Date.now() - started).toBeLessThan(3000);
    }
  });
});

describe('changes detector pieces', () => {
  it('scores by closeness to the onset', () => {
    const onset = 1_000_000_000;
    expect(proximityScore(onset - MIN, onset)).toBeGreaterThan(0.85);
    expect(proximityScore(onset - 10 * MIN, onset)).toBeCloseTo(0.75);
    expect(proximityScore(onset - 30 * MIN, onset)).toBeCloseTo(0.35);
    expect(proximityScore(onset + 5 * MIN, onset)).toBeLessThan(0.3);
  });

  it('finds the configuration key', () => {
    expect(configKey({ attributes: { key: 'pool.max' }, description: '' })).toBe('pool.max');
    expect(configKey({ attributes: {}, description: 'set payments.retry_limit to 0' })).toBe('payments.retry_limit');
    expect(configKey({ attributes: {}, description: 'max_pool_size=5 for the weekend' })).toBe('max_pool_size');
    expect(configKey({ attributes: {}, description: 'tweaked things' })).toBeNull();
  });
});
