/**
 * db-statements on a real server: 30 min of baseline and 10 min of fault with past timestamps, one service
 * per scenario (billing: a statement gets slow after a dropped index; catalog: a deploy brings an N+1;
 * shipping: healthy), each diagnosed on its own.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectorContext, scopeAround } from '../../../test/helpers/diagnosis.ts';
import { postOtlp } from '../../../test/helpers/otlp-send.ts';
import { startTestVigil, type TestVigil } from '../../../test/helpers/vigil.ts';
import { dbStatementsDetector, statementGlob } from './db-statements.ts';

const MIN = 60_000;
const now = Math.floor(Date.now() / MIN) * MIN - 2 * MIN;
const onset = now - 10 * MIN;
const start = onset - 32 * MIN;

const hex = (n: number, bytes: number) => Buffer.from(n.toString(16).padStart(bytes * 2, '0'), 'hex');
const ns = (ms: number) => String(BigInt(Math.round(ms * 1000)) * 1000n);
const attr = (key: string, v: string | number) => ({ key, value: typeof v === 'number' ? { intValue: v } : { stringValue: v } });
let id = 1;

type Call = { sql: string; ms: number };
/** Requests of `service` every `everyMs` over [start, now); `calls(t, i)` are the database calls of one request; `deployed`: the version from the onset on. */
function requests(service: string, route: string, everyMs: number, calls: (t: number, i: number) => Call[], deployed?: string): Record<string, unknown>[] {
  const spans: Record<string, unknown>[] = [];
  const after: Record<string, unknown>[] = [];
  let i = 0;
  for (let t = start; t < now; t += everyMs, i++) {
    const list = deployed && t >= onset ? after : spans;
    const trace = hex(id++, 16);
    const root = hex(id++, 8);
    let at = t + 1;
    for (const c of calls(t, i)) {
      list.push({ traceId: trace, spanId: hex(id++, 8), parentSpanId: root, name: `SELECT ${service}`, kind: 3, startTimeUnixNano: ns(at), endTimeUnixNano: ns(at + c.ms), attributes: [attr('db.system', 'postgresql'), attr('db.query.text', c.sql)] });
      at += c.ms;
    }
    list.push({ traceId: trace, spanId: root, name: `GET ${route}`, kind: 2, startTimeUnixNano: ns(t), endTimeUnixNano: ns(at + 2), attributes: [attr('http.route', route), attr('http.request.method', 'GET'), attr('http.response.status_code', 200)] });
  }
  const resource = (version: string) => ({ attributes: [attr('service.name', service), attr('service.version', version), attr('host.name', 'node-a')] });
  return [
    { resource: resource('1.0.0'), scopeSpans: [{ scope: { name: 'test' }, spans }] },
    ...(deployed ? [{ resource: resource(deployed), scopeSpans: [{ scope: { name: 'test' }, spans: after }] }] : []),
  ];
}

const jitter = (i: number, base: number) => base * (0.8 + ((i * 37) % 10) / 25);

let v: TestVigil;
beforeAll(async () => {
  v = await startTestVigil({ agent: { selfMonitor: false } });
  const faulty = (t: number) => t >= onset;
  await postOtlp(v.server.urls.otlp, v.ingestToken, 'traces', {
    resourceSpans: [
      // billing: the invoices lookup goes from ~4 ms to ~180 ms at the onset; the cart update stays.
      ...requests('billing', '/invoices', 4000, (t, i) => [
        { sql: `SELECT id, total FROM invoices WHERE customer_id = ${i % 97} AND status = 'open'`, ms: faulty(t) ? jitter(i, 180) : jitter(i, 4) },
        { sql: `UPDATE sessions SET seen_at = ${t} WHERE id = ${i}`, ms: jitter(i, 2) },
      ]),
      // catalog: one query with an IN list per request, then (after the deploy of 1.1.0) one query per item.
      ...requests('catalog', '/products', 4000, (t, i) =>
        faulty(t)
          ? Array.from({ length: 12 }, (_, k) => ({ sql: `SELECT name, price FROM products WHERE id = ${i + k}`, ms: jitter(i + k, 3) }))
          : [{ sql: `SELECT name, price FROM products WHERE id IN (${i}, ${i + 1}, ${i + 2})`, ms: jitter(i, 5) }],
        '1.1.0',
      ),
      // shipping: healthy throughout.
      ...requests('shipping', '/rates', 4000, (t, i) => [{ sql: `SELECT rate FROM zones WHERE code = '${i % 13}'`, ms: jitter(i, 6) }]),
    ],
  });
}, 60_000);
afterAll(async () => v?.stop());

const diagnose = (service: string) => dbStatementsDetector.run(detectorContext(v.server, scopeAround(onset, now, [service])));

describe('db-statements', () => {
  it('names the statement that got slow, with its share of the added database time and when it began', async () => {
    const out = await diagnose('billing');
    expect(out).toHaveLength(1);
    const e = out[0]!;
    expect(e).toMatchObject({ category: 'database', role: 'cause', component: "SELECT id, total FROM invoices WHERE customer_id = ? AND status = ?", services: ['billing'] });
    expect(e.score).toBeGreaterThanOrEqual(0.75);
    expect(e.figures.regression_share).toBeGreaterThan(0.95);
    expect(Number(e.figures.window_p95_ms)).toBeGreaterThan(100);
    expect(e.summary).toMatch(/p95 \d(\.\d)? ms → \d+ ms \(\d+×\).*% of the added database time, from \d\d:\d\d UTC/);
    expect(Math.abs((e.onsetMs ?? 0) - onset)).toBeLessThanOrEqual(MIN);
    expect(e.links.length).toBeGreaterThan(0);
    expect(e.figures.service_version).toBeUndefined();
    // The link's query finds the statement's calls.
    const q = decodeURIComponent(/q=([^&]*)/.exec(e.links[1]!.href)![1]!);
    const res = await v.server.queries.search(q, { fromNs: BigInt(onset) * 1_000_000n, toNs: BigInt(now) * 1_000_000n, limit: 100 });
    expect(res.rows.length).toBe(50);
  });

  it('calls a statement run many more times per request at the same cost an N+1, with a moderate score', async () => {
    const out = await diagnose('catalog');
    expect(out).toHaveLength(1);
    const e = out[0]!;
    expect(e).toMatchObject({ category: 'database', role: 'cause', component: 'SELECT name, price FROM products WHERE id = ?', services: ['catalog'] });
    expect(e.summary).toMatch(/^N\+1: .* is new and runs (9|10|11|12) times per request/);
    // It came with catalog 1.1.0: named so the ranker can hand it to that deploy.
    expect(e.figures.service_version).toBe('1.1.0');
    expect(e.summary).toMatch(/issued by catalog 1\.1\.0, a version the baseline did not run\.$/);
    expect(e.score).toBeGreaterThan(0.4);
    expect(e.score).toBeLessThan(0.75);
  });

  it('stays quiet on a healthy service', async () => {
    expect(await diagnose('shipping')).toEqual([]);
  });

  it('stays quiet when nothing changed at all (baseline against baseline)', async () => {
    const scope = scopeAround(onset - 12 * MIN, onset - MIN, [], { baselineMin: 15 });
    expect(await dbStatementsDetector.run(detectorContext(v.server, scope))).toEqual([]);
  });

  it('writes a glob matching the raw statements', () => {
    expect(statementGlob('SELECT a FROM t WHERE id IN (?) AND b = ?')).toBe('SELECT a FROM t WHERE id IN (*) AND b = *');
  });
});
