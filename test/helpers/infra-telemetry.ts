/**
 * Building OTLP telemetry for the infrastructure detectors' tests (resources, changes, dependencies): spans
 * of call chains and gauge series per resource, as plain objects for `postOtlp`, with ids as bytes.
 */
import { postOtlp } from './otlp-send.ts';

type Attr = string | number | boolean;

/** An OTLP key/value. */
export function kv(key: string, value: Attr): { key: string; value: Record<string, unknown> } {
  if (typeof value === 'string') return { key, value: { stringValue: value } };
  if (typeof value === 'boolean') return { key, value: { boolValue: value } };
  return { key, value: Number.isInteger(value) ? { intValue: value } : { doubleValue: value } };
}

/** OTLP attributes from an object. */
export function attrs(o: Record<string, Attr>): ReturnType<typeof kv>[] {
  return Object.entries(o).map(([k, v]) => kv(k, v));
}

/** Epoch ms → OTLP nanosecond text. */
export const nano = (ms: number): string => (BigInt(Math.round(ms * 1000)) * 1000n).toString();

let counter = 1;
/** A fresh trace (16 bytes) or span (8 bytes) id. */
export function newId(bytes: 16 | 8): Buffer {
  return Buffer.from((counter++).toString(16).padStart(bytes * 2, '0'), 'hex');
}

/** One span to send. */
export interface SpanSpec {
  service: string;
  host?: string;
  traceId: Buffer;
  spanId?: Buffer;
  parent?: Buffer;
  name: string;
  kind: 'server' | 'client' | 'internal';
  startMs: number;
  durMs: number;
  attributes?: Record<string, Attr>;
  error?: string | boolean;
}

const KIND = { internal: 1, server: 2, client: 3 } as const;

/** Posts spans, one resource per service and host, in chunks. */
export async function sendSpans(otlpUrl: string, token: string, spans: readonly SpanSpec[]): Promise<void> {
  for (let i = 0; i < spans.length; i += 2000) {
    const byResource = new Map<string, SpanSpec[]>();
    for (const s of spans.slice(i, i + 2000)) {
      const key = `${s.service}\u0000${s.host ?? ''}`;
      byResource.set(key, [...(byResource.get(key) ?? []), s]);
    }
    await postOtlp(otlpUrl, token, 'traces', {
      resourceSpans: [...byResource.values()].map((list) => ({
        resource: { attributes: attrs({ 'service.name': list[0]!.service, ...(list[0]!.host ? { 'host.name': list[0]!.host } : {}) }) },
        scopeSpans: [
          {
            scope: { name: 'test' },
            spans: list.map((s) => ({
              traceId: s.traceId,
              spanId: s.spanId ?? newId(8),
              ...(s.parent ? { parentSpanId: s.parent } : {}),
              name: s.name,
              kind: KIND[s.kind],
              startTimeUnixNano: nano(s.startMs),
              endTimeUnixNano: nano(s.startMs + s.durMs),
              attributes: attrs(s.attributes ?? {}),
              status: s.error ? { code: 2, message: typeof s.error === 'string' ? s.error : '' } : { code: 0 },
            })),
          },
        ],
      })),
    });
  }
}

/** A gauge series: one metric of one resource, a point every `stepMs` over `[fromMs, toMs)`. */
export interface GaugeSpec {
  resource: Record<string, Attr>;
  name: string;
  unit?: string;
  attributes?: Record<string, Attr>;
  fromMs: number;
  toMs: number;
  stepMs?: number;
  value: (t: number) => number;
  /** Send as a non-monotonic sum instead of a gauge (process.memory.usage, system.filesystem.usage). */
  sum?: boolean;
}

/** Posts gauge series. */
export async function sendGauges(otlpUrl: string, token: string, specs: readonly GaugeSpec[]): Promise<void> {
  await postOtlp(otlpUrl, token, 'metrics', {
    resourceMetrics: specs.map((g) => {
      const points: Record<string, unknown>[] = [];
      for (let t = g.fromMs; t < g.toMs; t += g.stepMs ?? 15_000) points.push({ timeUnixNano: nano(t), startTimeUnixNano: nano(g.fromMs), asDouble: g.value(t), attributes: attrs(g.attributes ?? {}) });
      const data = g.sum ? { sum: { aggregationTemporality: 2, isMonotonic: false, dataPoints: points } } : { gauge: { dataPoints: points } };
      return { resource: { attributes: attrs(g.resource) }, scopeMetrics: [{ scope: { name: 'test' }, metrics: [{ name: g.name, unit: g.unit ?? '1', ...data }] }] };
    }),
  });
}

/** The start of the current minute minus `minutes` (round times keep buckets aligned). */
export function minutesAgo(minutes: number, now = Date.now()): number {
  return Math.floor(now / 60_000) * 60_000 - minutes * 60_000;
}
