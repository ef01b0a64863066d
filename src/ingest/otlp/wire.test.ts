/**
 * Differential test: the direct wire decoder and the generic protobufjs path must produce the same
 * rows and rejections for the same bytes, over many generated requests with every value shape,
 * missing and malformed ids, unknown fields and fields in unusual order.
 */
import { describe, expect, it } from 'vitest';
import { decodeOtlp, OtlpDecodeError } from './decode.ts';
import { otlpTypes } from './proto.ts';
import { decodeLogsWire, decodeTracesWire } from './wire.ts';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function generator(seed: number) {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(r() * 256)));
  const id = (n: number) => pick([bytes(n), bytes(n), bytes(n), Buffer.alloc(0), Buffer.alloc(n), bytes(n - 1), undefined]);
  const anyValue = (depth: number): Record<string, unknown> => {
    const kind = Math.floor(r() * (depth > 2 ? 5 : 7));
    switch (kind) {
      case 0:
        return { stringValue: pick(['', 'x', 'päyment ✓', 'a"b\\c', '<script>']) };
      case 1:
        return { boolValue: r() < 0.5 };
      case 2:
        return { intValue: pick(['0', '-5', '42', '9007199254740993', '-9223372036854775808']) };
      case 3:
        return { doubleValue: pick([0, 1.5, -2.25, 1e300]) };
      case 4:
        return r() < 0.5 ? { bytesValue: bytes(3) } : {};
      case 5:
        return { arrayValue: { values: Array.from({ length: Math.floor(r() * 3) }, () => anyValue(depth + 1)) } };
      default:
        return { kvlistValue: { values: attrs(depth + 1) } };
    }
  };
  const attrs = (depth = 0) => Array.from({ length: Math.floor(r() * 4) }, (_, i) => ({ key: pick(['k', 'http.route', `a${i}`, '']), value: anyValue(depth) }));
  const resource = () => (r() < 0.8 ? { attributes: [{ key: 'service.name', value: { stringValue: pick(['rms-api', 'lms-api']) } }, ...attrs()] } : undefined);
  const scope = () => (r() < 0.7 ? { name: pick(['', 'lib']), version: pick(['', '1.0']) } : undefined);
  const time = () => pick(['0', '1700000000123456789', '18446744073709551615', '1']);
  return {
    logs: () => ({
      resourceLogs: Array.from({ length: 1 + Math.floor(r() * 2) }, () => ({
        resource: resource(),
        scopeLogs: Array.from({ length: 1 + Math.floor(r() * 2) }, () => ({
          scope: scope(),
          logRecords: Array.from({ length: Math.floor(r() * 5) }, () => ({
            timeUnixNano: time(),
            observedTimeUnixNano: time(),
            severityNumber: Math.floor(r() * 25),
            severityText: pick(['', 'INFO', 'ERROR']),
            body: r() < 0.9 ? anyValue(0) : undefined,
            attributes: attrs(),
            flags: Math.floor(r() * 512),
            traceId: id(16),
            spanId: id(8),
            eventName: pick(['', 'login']),
          })),
        })),
      })),
    }),
    traces: () => ({
      resourceSpans: Array.from({ length: 1 + Math.floor(r() * 2) }, () => ({
        resource: resource(),
        scopeSpans: Array.from({ length: 1 + Math.floor(r() * 2) }, () => ({
          scope: scope(),
          spans: Array.from({ length: Math.floor(r() * 5) }, () => ({
            traceId: id(16),
            spanId: id(8),
            parentSpanId: id(8),
            traceState: pick(['', 'k=v']),
            name: pick(['', 'GET /x']),
            kind: Math.floor(r() * 7),
            startTimeUnixNano: time(),
            endTimeUnixNano: time(),
            attributes: attrs(),
            events: Array.from({ length: Math.floor(r() * 2) }, () => ({ timeUnixNano: time(), name: 'exception', attributes: attrs() })),
            links: Array.from({ length: Math.floor(r() * 2) }, () => ({ traceId: id(16), spanId: id(8), traceState: '', attributes: attrs() })),
            status: r() < 0.5 ? { code: Math.floor(r() * 4), message: pick(['', 'boom']) } : undefined,
          })),
        })),
      })),
    }),
  };
}

// Missing times default to "now" in both decoders, read a moment apart: compare everything else exactly.
function normalise(d: ReturnType<typeof decodeLogsWire>) {
  const now = BigInt(Date.now()) * 1_000_000n;
  const nearNow = (t: bigint) => (t > now - 60_000_000_000n && t < now + 60_000_000_000n ? 'now' : t);
  return {
    rejected: d.rejected,
    logs: d.batch.logs.map((l) => ({ ...l, timeNs: nearNow(l.timeNs), observedTimeNs: nearNow(l.observedTimeNs) })),
    spans: d.batch.spans,
  };
}

describe('wire decoder', () => {
  it('decodes 400 generated log requests exactly as the generic path does', () => {
    const T = otlpTypes().logs.request;
    let rows = 0;
    let rejected = 0;
    for (let seed = 1; seed <= 400; seed++) {
      const bytes = T.encode(T.fromObject(generator(seed).logs())).finish();
      const wire = decodeLogsWire(bytes);
      expect(normalise(wire), `seed ${seed}`).toEqual(normalise(decodeOtlp('logs', bytes, 'protobuf')));
      rows += wire.batch.logs.length;
      rejected += wire.rejected;
    }
    // The generated requests exercise both paths: accepted rows and rejected items.
    expect(rows).toBeGreaterThan(500);
    expect(rejected).toBeGreaterThan(100);
  });

  it('decodes 400 generated trace requests exactly as the generic path does', () => {
    const T = otlpTypes().traces.request;
    let rows = 0;
    let rejected = 0;
    for (let seed = 1; seed <= 400; seed++) {
      const bytes = T.encode(T.fromObject(generator(seed).traces())).finish();
      const wire = decodeTracesWire(bytes);
      expect(normalise(wire), `seed ${seed}`).toEqual(normalise(decodeOtlp('traces', bytes, 'protobuf')));
      rows += wire.batch.spans.length;
      rejected += wire.rejected;
    }
    expect(rows).toBeGreaterThan(50);
    expect(rejected).toBeGreaterThan(100);
  });

  it('skips unknown fields and accepts the resource after the items', () => {
    // ResourceLogs{ scope_logs(2){ log_records(2){ body(5){string "hi"}, unknown field 99 varint } }, resource(1){ kv service.name=x } }
    const kv = Buffer.from([0x0a, 0x0c, ...Buffer.from('service.name'), 0x12, 0x03, 0x0a, 0x01, 0x78]);
    const res = Buffer.concat([Buffer.from([0x0a, kv.length + 2, 0x0a, kv.length]), kv]);
    const rec = Buffer.from([0x2a, 0x04, 0x0a, 0x02, ...Buffer.from('hi'), 0x98, 0x06, 0x01]);
    const scopeLogs = Buffer.concat([Buffer.from([0x12, rec.length]), rec]);
    const rl = Buffer.concat([Buffer.from([0x12, scopeLogs.length]), scopeLogs, res]);
    const req = Buffer.concat([Buffer.from([0x0a, rl.length]), rl]);
    const d = decodeLogsWire(req);
    expect(d.batch.logs.map((l) => [l.body, l.resource.serviceName])).toEqual([['hi', 'x']]);
    expect(decodeOtlp('logs', req, 'protobuf').batch.logs[0]!.resource.serviceName).toBe('x');
  });

  it('throws OtlpDecodeError for truncated or malformed bytes', () => {
    for (const bad of [[0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01], [0x0a, 0x05, 0x01], [0x0b]]) {
      expect(() => decodeLogsWire(new Uint8Array(bad))).toThrow(OtlpDecodeError);
      expect(() => decodeTracesWire(new Uint8Array(bad))).toThrow(OtlpDecodeError);
    }
  });
});
