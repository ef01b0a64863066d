/**
 * The patient query service: with a gate that runs one query and queues none, concurrent queries of a
 * detector all get their answer (the plain service refuses them), until the run's signal aborts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectorContext, scopeAround } from '../../test/helpers/diagnosis.ts';
import { startTestVigil, type TestVigil } from '../../test/helpers/vigil.ts';
import { duckdbDialect } from '../query/dialect/duckdb.ts';
import { QueryBusyError, QueryGate } from '../query/executor.ts';
import { QueryService } from '../query/service.ts';
import { databaseQuery } from '../query/views/apm.ts';
import type { DetectorContext } from './types.ts';
import { mapLimit, withPatientQueries } from './patient-queries.ts';

let v: TestVigil;
let ctx: DetectorContext;
const now = Date.now();
const range = { fromNs: BigInt(now - 60_000) * 1_000_000n, toNs: BigInt(now) * 1_000_000n };
beforeAll(async () => {
  v = await startTestVigil({ agent: { selfMonitor: false } });
  const narrow = new QueryService(v.server.store, duckdbDialect, new QueryGate(1, 0), 10_000);
  ctx = { ...detectorContext(v.server, scopeAround(now - 30_000, now)), queries: narrow };
});
afterAll(async () => v?.stop());

const burst = (c: DetectorContext) =>
  Promise.allSettled([
    ...Array.from({ length: 4 }, () => c.queries.search('from spans | stats count() as n', range)),
    c.queries.rows(databaseQuery(c.queries.dialect, { ...range, sort: 'total_time', limit: 10 })),
  ]);

describe('withPatientQueries', () => {
  it('waits for the gate instead of failing', async () => {
    const plain = await burst(ctx);
    expect(plain.some((r) => r.status === 'rejected' && r.reason instanceof QueryBusyError)).toBe(true);
    const patient = await burst(withPatientQueries(ctx));
    expect(patient.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
    // Still the same service underneath: its dialect and time-out.
    expect(withPatientQueries(ctx).queries.dialect).toBe(duckdbDialect);
  });

  it('gives up once the run is aborted', async () => {
    const ctl = new AbortController();
    ctl.abort();
    const settled = await burst(withPatientQueries({ ...ctx, signal: ctl.signal }));
    expect(settled.some((r) => r.status === 'rejected' && r.reason instanceof QueryBusyError)).toBe(true);
  });
});

describe('mapLimit', () => {
  it('keeps the order and at most `limit` running', async () => {
    let running = 0;
    let peak = 0;
    const out = await mapLimit([5, 1, 4, 2, 3], 2, async (x) => {
      peak = Math.max(peak, ++running);
      await new Promise((r) => setTimeout(r, x * 3));
      running--;
      return x * 10;
    });
    expect(out).toEqual([50, 10, 40, 20, 30]);
    expect(peak).toBe(2);
  });
});
