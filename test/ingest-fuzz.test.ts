/**
 * Ingest fuzz: a real Vigil process takes random and extreme values in every field of both receivers
 * (OTLP JSON and protobuf, all three signals; HEC events and raw) while honest senders ingest and
 * readers query at the same time. Vigil must never crash, never answer a fuzzed request with 5xx, never
 * fail an honest sender because of someone else's record, keep answering queries, keep every record it
 * acknowledged, and shut down cleanly. Seeded, so a failure reproduces.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { rng as prng } from '../demo/random.ts';
import { otlpTypes } from '../src/ingest/otlp/proto.ts';
import { openDuckDBStore } from '../src/store/telemetry/duckdb.ts';
import { runVigil, spawnVigil, tempDir, type ChildVigil } from './helpers/vigil.ts';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

const nowNs = () => BigInt(Date.now()) * 1_000_000n;

/** Values chosen to break columns: beyond int64/uint64, negative, fractional, non-numeric, absurd dates. */
function extremeTimes(): unknown[] {
  const now = nowNs();
  return [
    '18446744073709551615', '9223372036854775807', '9223372036854775808', '-1', '-9223372036854775808', 0, '0', 1e30, -5, 1.5, 'abc', '',
    null, true, [], {}, String(now + 200n * 365n * 86_400_000_000_000n), String(now - 100n * 365n * 86_400_000_000_000n), String(now), Number(now),
  ];
}

const EXTREME_NUMBERS: unknown[] = [0, -1, 2 ** 31, 2 ** 32, 2 ** 53 + 1, 2 ** 64, -(2 ** 63), 1e308, -1e308, 'NaN', 'Infinity', '-Infinity', '1e400', 'x', null, 3.7, '18446744073709551615', {}];

function extremeStrings(pick: <T>(xs: T[]) => T): unknown[] {
  return ['', 'a\ud800b', 'nul\u0000byte', '\uffff', 'x'.repeat(70_000), '😀'.repeat(500), '{"json":', "'; DROP TABLE otel_logs; --", '<script>alert(1)</script>', 12, null, pick([true, false]), ['a', 1], { k: 'v' }];
}

function anyValue(rand: () => number, pick: <T>(xs: T[]) => T, depth = 0): unknown {
  const kinds = ['stringValue', 'intValue', 'doubleValue', 'boolValue', 'bytesValue', 'arrayValue', 'kvlistValue', 'garbage'];
  const kind = pick(depth > 3 ? kinds.slice(0, 5) : kinds);
  switch (kind) {
    case 'stringValue': return { stringValue: pick(extremeStrings(pick)) };
    case 'intValue': return { intValue: pick(EXTREME_NUMBERS) };
    case 'doubleValue': return { doubleValue: pick(EXTREME_NUMBERS) };
    case 'boolValue': return { boolValue: pick([true, false, 'yes', 1, null]) };
    case 'bytesValue': return { bytesValue: pick(['AAEC', '!!notbase64', '', 12]) };
    case 'arrayValue': return { arrayValue: { values: Array.from({ length: Math.floor(rand() * 4) }, () => anyValue(rand, pick, depth + 1)) } };
    case 'kvlistValue': return { kvlistValue: { values: Array.from({ length: Math.floor(rand() * 4) }, () => ({ key: pick(['a', '', 'service.name', 'x'.repeat(300)]), value: anyValue(rand, pick, depth + 1) })) } };
    default: return pick([null, 5, 'text', []]);
  }
}

function attributes(rand: () => number, pick: <T>(xs: T[]) => T): unknown {
  if (rand() < 0.1) return pick([null, 'notalist', {}, [null]]);
  return Array.from({ length: Math.floor(rand() * 5) }, () => ({ key: pick(['http.route', 'http.response.status_code', 'db.statement', 'password', '', 'k\u0000', 'a.b.c']), value: anyValue(rand, pick) }));
}

function resource(rand: () => number, pick: <T>(xs: T[]) => T): unknown {
  const service = pick(['fuzz', 'vigil-monitors', '', 'x'.repeat(2000), 'a\ud800', null]);
  return { attributes: [{ key: 'service.name', value: { stringValue: service } }, { key: 'service.namespace', value: { stringValue: pick(['', 'vigil', 'fuzz']) } }, ...[attributes(rand, pick)].flat().filter(Boolean)] };
}

function fuzzJson(signal: 'logs' | 'traces' | 'metrics', rand: () => number): unknown {
  const pick = <T,>(xs: T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const n = 1 + Math.floor(rand() * 6);
  const hex = (len: number) => pick(['', 'zz', '0'.repeat(len), 'a'.repeat(len), 'a'.repeat(len + 2), 12, null]);
  if (signal === 'logs') {
    return {
      resourceLogs: [{ resource: resource(rand, pick), scopeLogs: [{ scope: { name: pick(extremeStrings(pick)), version: pick(extremeStrings(pick)) }, logRecords: Array.from({ length: n }, () => ({
        timeUnixNano: pick(extremeTimes()), observedTimeUnixNano: pick(extremeTimes()), severityNumber: pick([...EXTREME_NUMBERS, 'SEVERITY_NUMBER_WARN', 'NOPE']), severityText: pick(extremeStrings(pick)),
        body: anyValue(rand, pick), attributes: attributes(rand, pick), traceId: hex(32), spanId: hex(16), flags: pick(EXTREME_NUMBERS), eventName: pick(extremeStrings(pick)),
      })) }] }],
    };
  }
  if (signal === 'traces') {
    return {
      resourceSpans: [{ resource: resource(rand, pick), scopeSpans: [{ spans: Array.from({ length: n }, () => ({
        traceId: hex(32), spanId: hex(16), parentSpanId: hex(16), name: pick(extremeStrings(pick)), kind: pick([...EXTREME_NUMBERS, 'SPAN_KIND_SERVER']),
        startTimeUnixNano: pick(extremeTimes()), endTimeUnixNano: pick(extremeTimes()), attributes: attributes(rand, pick), status: pick([{ code: pick(EXTREME_NUMBERS), message: pick(extremeStrings(pick)) }, null, 'x']),
        events: pick([[{ timeUnixNano: pick(extremeTimes()), name: pick(extremeStrings(pick)), attributes: attributes(rand, pick) }], null, 'x']),
        links: pick([[{ traceId: hex(32), spanId: hex(16), attributes: attributes(rand, pick) }], null]),
      })) }] }],
    };
  }
  const point = () => ({ timeUnixNano: pick(extremeTimes()), startTimeUnixNano: pick(extremeTimes()), asDouble: pick(EXTREME_NUMBERS), asInt: pick(EXTREME_NUMBERS), attributes: attributes(rand, pick) });
  const histogramPoint = () => ({ ...point(), count: pick(EXTREME_NUMBERS), sum: pick(EXTREME_NUMBERS), min: pick(EXTREME_NUMBERS), max: pick(EXTREME_NUMBERS), bucketCounts: pick([[1, 2], [pick(EXTREME_NUMBERS)], 'x', [-1, 1e30]]), explicitBounds: pick([[1], [pick(EXTREME_NUMBERS), 2], []]) });
  return {
    resourceMetrics: [{ resource: resource(rand, pick), scopeMetrics: [{ metrics: Array.from({ length: n }, () => {
      const name = pick(['fuzz.metric', 'vigil.check.up', '', 'x'.repeat(500), null]);
      switch (pick(['gauge', 'sum', 'histogram', 'exponentialHistogram', 'summary', 'none'])) {
        case 'gauge': return { name, gauge: { dataPoints: [point(), point()] } };
        case 'sum': return { name, sum: { dataPoints: [point()], aggregationTemporality: pick(EXTREME_NUMBERS), isMonotonic: pick([true, 'x']) } };
        case 'histogram': return { name, histogram: { dataPoints: [histogramPoint()], aggregationTemporality: 2 } };
        case 'exponentialHistogram': return { name, exponentialHistogram: { dataPoints: [{ ...point(), count: pick(EXTREME_NUMBERS), scale: pick(EXTREME_NUMBERS), zeroCount: pick(EXTREME_NUMBERS), positive: { offset: pick(EXTREME_NUMBERS), bucketCounts: [pick(EXTREME_NUMBERS)] } }] } };
        case 'summary': return { name, summary: { dataPoints: [point()] } };
        default: return { name };
      }
    }) }] }],
  };
}

/** Protobuf bodies with extreme 64-bit times, and bit-flipped copies of valid ones. */
function fuzzProto(signal: 'logs' | 'traces', rand: () => number): Uint8Array {
  const pick = <T,>(xs: T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const t = () => pick(['18446744073709551615', '9223372036854775808', '0', '1', String(nowNs()), String(nowNs() + 10n ** 18n)]);
  let bytes: Uint8Array;
  if (signal === 'logs') {
    const T = otlpTypes().logs.request;
    bytes = T.encode(T.fromObject({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ timeUnixNano: t(), observedTimeUnixNano: t(), body: { stringValue: 'proto fuzz' }, severityNumber: pick([0, 9, 24]) }] }] }] })).finish();
  } else {
    const T = otlpTypes().traces.request;
    bytes = T.encode(T.fromObject({ resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: Buffer.alloc(16, 1), spanId: Buffer.alloc(8, 2), name: 'proto fuzz', startTimeUnixNano: t(), endTimeUnixNano: t() }] }] }] })).finish();
  }
  const copy = Uint8Array.from(bytes);
  if (rand() < 0.4) for (let i = 0; i < 3; i++) copy[Math.floor(rand() * copy.length)] ^= 1 << Math.floor(rand() * 8);
  return copy;
}

function fuzzHec(rand: () => number): { path: string; body: string } {
  const pick = <T,>(xs: T[]): T => xs[Math.floor(rand() * xs.length)]!;
  if (rand() < 0.2) return { path: `/services/collector/raw?index=${encodeURIComponent(pick(['', 'main', '\u0000']))}`, body: pick(['a\ud800\n\n', 'x'.repeat(80_000), '\u0000\n', 'line']) };
  const events = Array.from({ length: 1 + Math.floor(rand() * 4) }, () =>
    JSON.stringify({
      event: pick([pick(extremeStrings(pick)), { message: { deep: { deeper: [1, { password: 'x' }] } }, severity: pick(extremeStrings(pick)) }, 42, [1, 2], true]),
      time: pick([99999999999, 1e30, -1, '1e400', 'x', 1.5, Date.now(), Date.now() / 1000, '18446744073709551615', null]),
      host: pick(extremeStrings(pick)),
      index: pick(extremeStrings(pick)),
      fields: pick([{ 'service.name': pick(['vigil-monitors', 'fuzz-hec', '']), trace_id: 'a'.repeat(32), n: pick(EXTREME_NUMBERS) }, 'notobject', null]),
    }),
  );
  return { path: '/services/collector/event', body: events.join(pick(['', '\n', ' '])) };
}

async function newToken(dataDir: string, name: string, scope: string): Promise<string> {
  const res = await runVigil(['token', 'create', '--name', name, '--scope', scope, '--data-dir', dataDir]);
  expect(res.code, res.stderr).toBe(0);
  return res.stdout.trim().split('\n').pop()!;
}

function honestBody(batch: string, n: number): string {
  const t = nowNs();
  return JSON.stringify({
    resourceLogs: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'honest' } }] }, scopeLogs: [{ logRecords: Array.from({ length: n }, (_, i) => ({ timeUnixNano: String(t + BigInt(i)), severityNumber: 9, body: { stringValue: `honest ${batch} ${i}` }, attributes: [{ key: 'batch', value: { stringValue: batch } }] })) }] }],
  });
}

async function post(url: string, body: string | Uint8Array, headers: Record<string, string>): Promise<number> {
  const res = await fetch(url, { method: 'POST', body, headers });
  await res.arrayBuffer();
  return res.status;
}

describe('ingest fuzz', () => {
  it('random and extreme values in every field of both receivers never crash Vigil, fail honest senders, or stop queries', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const ingest = await newToken(dir, 'fuzz', 'ingest');
    const read = await newToken(dir, 'reader', 'read');
    const vigil: ChildVigil = await spawnVigil(['start', '--data-dir', dir, '--port', '0', '--otlp-port', '0', '--hec-port', '0']);
    cleanups.unshift(() => vigil.proc.kill('SIGKILL'));
    const rand = prng(20261130);
    const fuzzStatuses = new Map<number, number>();
    const failures: string[] = [];
    let running = true;

    const fuzzers = Array.from({ length: 3 }, async (_, f) => {
      for (let i = 0; i < 50; i++) {
        const which = Math.floor(rand() * 6);
        let status: number;
        let sent: string;
        if (which < 3) {
          const signal = (['logs', 'traces', 'metrics'] as const)[which]!;
          sent = JSON.stringify(fuzzJson(signal, rand));
          status = await post(`${vigil.urls.otlp}/v1/${signal}`, sent, { 'content-type': 'application/json', authorization: `Bearer ${ingest}` });
        } else if (which < 5) {
          const signal = which === 3 ? 'logs' : 'traces';
          status = await post(`${vigil.urls.otlp}/v1/${signal}`, fuzzProto(signal, rand), { 'content-type': 'application/x-protobuf', authorization: `Bearer ${ingest}` });
          sent = `${signal} protobuf`;
        } else {
          const h = fuzzHec(rand);
          status = await post(`${vigil.urls.hec}${h.path}`, h.body, { authorization: `Splunk ${ingest}` });
          sent = h.body;
        }
        fuzzStatuses.set(status, (fuzzStatuses.get(status) ?? 0) + 1);
        if (status >= 500) failures.push(`fuzzer ${f} request ${i}: ${status} for ${sent.slice(0, 300)}`);
      }
    });

    const acked: string[] = [];
    const honest = Array.from({ length: 3 }, async (_, s) => {
      for (let i = 0; running || i < 5; i++) {
        const batch = `h${s}-${i}`;
        const status = await post(`${vigil.urls.otlp}/v1/logs`, honestBody(batch, 50), { 'content-type': 'application/json', authorization: `Bearer ${ingest}` });
        if (status === 200) acked.push(batch);
        else failures.push(`honest sender ${s} batch ${i}: ${status}`);
        if (i > 200) break;
      }
    });

    let queries = 0;
    const readers = Array.from({ length: 2 }, async (_, r) => {
      while (running) {
        const started = Date.now();
        const res = await fetch(r === 0 ? `${vigil.urls.api}/readyz` : `${vigil.urls.api}/api/v1/search?q=${encodeURIComponent('from logs | stats count() by service.name')}&since=15m`, { headers: { authorization: `Bearer ${read}` } });
        await res.arrayBuffer();
        if (res.status !== 200) failures.push(`reader ${r}: ${res.status}`);
        if (Date.now() - started > 10_000) failures.push(`reader ${r}: answer took ${Date.now() - started} ms`);
        queries++;
      }
    });

    await Promise.all(fuzzers);
    running = false;
    await Promise.all([...honest, ...readers]);
    expect(vigil.proc.exitCode, vigil.output()).toBeNull();
    expect(failures).toEqual([]);
    expect(queries).toBeGreaterThan(10);
    // Most fuzzed requests hold at least one storable record, so the accepted path is exercised too.
    expect(fuzzStatuses.get(200) ?? 0).toBeGreaterThan(40);

    vigil.proc.kill('SIGTERM');
    expect(await vigil.exited).toBe(0);
    const store = await openDuckDBStore(`${dir}/telemetry.duckdb`);
    try {
      const rows = await store.query(`SELECT json_extract_string(LogAttributes, '$.batch') AS b, count(*) AS n FROM otel_logs WHERE ServiceName = 'honest' GROUP BY b`);
      const counts = new Map(rows.map((r) => [String(r.b), Number(r.n)]));
      expect(acked.filter((b) => counts.get(b) !== 50)).toEqual([]);
      // Nothing forged under Vigil's own names, nothing dated beyond the accepted window.
      expect(Number((await store.query(`SELECT count(*) AS n FROM otel_metrics_gauge WHERE ServiceName = 'vigil-monitors' OR MetricName LIKE 'vigil.check.%'`))[0]!.n)).toBe(0);
      const newest = String(nowNs() + 7_200_000_000_000n);
      const oldest = String(nowNs() - 8n * 86_400_000_000_000n);
      expect(Number((await store.query(`SELECT count(*) AS n FROM otel_logs WHERE epoch_ns(Timestamp) > $1::BIGINT OR epoch_ns(Timestamp) < $2::BIGINT`, [newest, oldest]))[0]!.n)).toBe(0);
      expect(Number((await store.query(`SELECT count(*) AS n FROM otel_traces WHERE epoch_ns(Timestamp) + Duration > $1::BIGINT OR Duration < 0`, [newest]))[0]!.n)).toBe(0);
    } finally {
      await store.close();
    }
  }, 180_000);
});
