/**
 * The scenario player's output side: spans, logs and metric points gathered per resource, as an SDK or the
 * host agent would batch them, then sent as OTLP protobuf through Vigil's real receiver.
 */
import { postOtlp } from '../helpers/otlp-send.ts';

export type AttrValue = string | number | boolean;
export type Attrs = Record<string, AttrValue>;

const kv = (key: string, value: AttrValue) => ({
  key,
  value: typeof value === 'string' ? { stringValue: value } : typeof value === 'boolean' ? { boolValue: value } : Number.isInteger(value) ? { intValue: value } : { doubleValue: value },
});
const attrList = (a: Attrs) => Object.entries(a).map(([k, v]) => kv(k, v));
/** Epoch ms (fractions allowed) → OTLP nanoseconds. */
export const nanos = (ms: number): string => (BigInt(Math.round(ms * 1000)) * 1000n).toString();

export interface SpanRecord {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: 'server' | 'client' | 'internal';
  startMs: number;
  endMs: number;
  attributes: Attrs;
  error?: { message: string; exceptionType?: string };
}

export interface LogRecord {
  timeMs: number;
  severity: 'INFO' | 'WARN' | 'ERROR';
  body: string;
  attributes?: Attrs;
  traceId?: string;
  spanId?: string;
}

export interface PointRecord {
  name: string;
  unit: string;
  type: 'gauge' | 'updown';
  timeMs: number;
  value: number;
  attributes: Attrs;
}

const SEVERITY = { INFO: 9, WARN: 13, ERROR: 17 } as const;
const KIND = { internal: 1, server: 2, client: 3 } as const;

interface Bucket {
  resource: Attrs;
  spans: SpanRecord[];
  logs: LogRecord[];
  points: PointRecord[];
}

/** What one stretch of simulated time produced, per resource. */
export class Batch {
  private readonly buckets = new Map<string, Bucket>();
  counts = { spans: 0, logs: 0, points: 0 };

  private bucket(resource: Attrs): Bucket {
    const key = JSON.stringify(resource);
    let b = this.buckets.get(key);
    if (!b) this.buckets.set(key, (b = { resource, spans: [], logs: [], points: [] }));
    return b;
  }

  span(resource: Attrs, s: SpanRecord): void {
    this.bucket(resource).spans.push(s);
    this.counts.spans++;
  }

  log(resource: Attrs, l: LogRecord): void {
    this.bucket(resource).logs.push(l);
    this.counts.logs++;
  }

  point(resource: Attrs, p: PointRecord): void {
    this.bucket(resource).points.push(p);
    this.counts.points++;
  }

  /** What was gathered, per resource (for checks of the generated telemetry). */
  records(): readonly { resource: Attrs; spans: readonly SpanRecord[]; logs: readonly LogRecord[]; points: readonly PointRecord[] }[] {
    return [...this.buckets.values()];
  }

  /** Sends traces, then logs, then metrics (each one OTLP request); nothing is sent for an empty signal. */
  async send(otlpUrl: string, token: string): Promise<void> {
    const all = [...this.buckets.values()];
    const withSpans = all.filter((b) => b.spans.length);
    if (withSpans.length) await postOtlp(otlpUrl, token, 'traces', { resourceSpans: withSpans.map(traceResource) });
    const withLogs = all.filter((b) => b.logs.length);
    if (withLogs.length) await postOtlp(otlpUrl, token, 'logs', { resourceLogs: withLogs.map(logResource) });
    const withPoints = all.filter((b) => b.points.length);
    if (withPoints.length) await postOtlp(otlpUrl, token, 'metrics', { resourceMetrics: withPoints.map(metricResource) });
  }
}

const bytes = (hex: string | undefined) => (hex ? Buffer.from(hex, 'hex') : Buffer.alloc(0));

function traceResource(b: Bucket) {
  return {
    resource: { attributes: attrList(b.resource) },
    scopeSpans: [
      {
        scope: { name: 'scenario-player', version: '1.0.0' },
        spans: b.spans.map((s) => ({
          traceId: bytes(s.traceId),
          spanId: bytes(s.spanId),
          parentSpanId: bytes(s.parentSpanId),
          name: s.name,
          kind: KIND[s.kind],
          startTimeUnixNano: nanos(s.startMs),
          endTimeUnixNano: nanos(s.endMs),
          attributes: attrList(s.attributes),
          status: s.error ? { code: 2, message: s.error.message } : { code: 0 },
          events: s.error?.exceptionType
            ? [{ name: 'exception', timeUnixNano: nanos(s.endMs), attributes: attrList({ 'exception.type': s.error.exceptionType, 'exception.message': s.error.message }) }]
            : [],
        })),
      },
    ],
  };
}

function logResource(b: Bucket) {
  return {
    resource: { attributes: attrList(b.resource) },
    scopeLogs: [
      {
        scope: { name: 'scenario-player' },
        logRecords: b.logs.map((l) => ({
          timeUnixNano: nanos(l.timeMs),
          observedTimeUnixNano: nanos(l.timeMs),
          severityNumber: SEVERITY[l.severity],
          severityText: l.severity,
          body: { stringValue: l.body },
          attributes: attrList(l.attributes ?? {}),
          traceId: bytes(l.traceId),
          spanId: bytes(l.spanId),
        })),
      },
    ],
  };
}

function metricResource(b: Bucket) {
  const byName = new Map<string, PointRecord[]>();
  for (const p of b.points) byName.set(p.name, [...(byName.get(p.name) ?? []), p]);
  return {
    resource: { attributes: attrList(b.resource) },
    scopeMetrics: [
      {
        scope: { name: 'scenario-player' },
        metrics: [...byName.entries()].map(([name, points]) => {
          const first = points[0] as PointRecord;
          const dataPoints = points.map((p) => ({ timeUnixNano: nanos(p.timeMs), asDouble: p.value, attributes: attrList(p.attributes) }));
          return first.type === 'gauge'
            ? { name, unit: first.unit, gauge: { dataPoints } }
            : { name, unit: first.unit, sum: { aggregationTemporality: 2, isMonotonic: false, dataPoints: dataPoints.map((d) => ({ ...d, startTimeUnixNano: nanos(points[0]!.timeMs - 3_600_000) })) } };
        }),
      },
    ],
  };
}
