/**
 * Synthetic request traffic for diagnosis tests: span specs (service, version, host, timing, attributes,
 * failure) sent through the real OTLP receiver as protobuf, grouped by resource and in bounded batches,
 * plus a deterministic random source so a scenario is the same on every run.
 */
import { otlpTypes } from '../../src/ingest/otlp/proto.ts';

/** An attribute value. */
export type Attr = string | number | boolean;

/** One span to send. */
export interface SpanSpec {
  service: string;
  version?: string;
  host?: string;
  /** More resource attributes (`k8s.pod.name`, `deployment.environment`…). */
  resource?: Record<string, Attr>;
  name: string;
  kind: 'server' | 'client' | 'internal';
  startMs: number;
  durMs: number;
  attributes?: Record<string, Attr>;
  /** Status error, with this message when a string. */
  error?: boolean | string;
  traceId?: string;
  spanId?: string;
  parentSpanId?: string;
}

let counter = 1;
/** A fresh id of `bytes` bytes as hex (unique within the process). */
export function newId(bytes: 8 | 16): string {
  return (counter++).toString(16).padStart(bytes * 2, '0');
}

const kv = (key: string, value: Attr) => ({
  key,
  value: typeof value === 'string' ? { stringValue: value } : typeof value === 'boolean' ? { boolValue: value } : Number.isInteger(value) ? { intValue: value } : { doubleValue: value },
});
const attrs = (o: Record<string, Attr>) => Object.entries(o).map(([k, x]) => kv(k, x));
const nanos = (ms: number) => (BigInt(Math.round(ms * 1000)) * 1000n).toString();
const KIND = { internal: 1, server: 2, client: 3 } as const;

/** Sends the spans through `otlpUrl` with an ingest token, 5,000 per request. */
export async function sendSpans(otlpUrl: string, token: string, spans: readonly SpanSpec[]): Promise<void> {
  const Msg = otlpTypes().traces.request;
  for (let i = 0; i < spans.length; i += 5000) {
    const groups = new Map<string, SpanSpec[]>();
    for (const s of spans.slice(i, i + 5000)) {
      const key = JSON.stringify([s.service, s.version ?? '1.0.0', s.host ?? 'node-a', s.resource ?? {}]);
      groups.set(key, [...(groups.get(key) ?? []), s]);
    }
    const message = {
      resourceSpans: [...groups.entries()].map(([key, list]) => {
        const [service, version, host, extra] = JSON.parse(key) as [string, string, string, Record<string, Attr>];
        return {
          resource: { attributes: attrs({ 'service.name': service, 'service.version': version, 'host.name': host, ...extra }) },
          scopeSpans: [
            {
              scope: { name: 'scenario' },
              spans: list.map((s) => ({
                traceId: Buffer.from(s.traceId ?? newId(16), 'hex'),
                spanId: Buffer.from(s.spanId ?? newId(8), 'hex'),
                parentSpanId: s.parentSpanId ? Buffer.from(s.parentSpanId, 'hex') : Buffer.alloc(0),
                name: s.name,
                kind: KIND[s.kind],
                startTimeUnixNano: nanos(s.startMs),
                endTimeUnixNano: nanos(s.startMs + s.durMs),
                attributes: attrs(s.attributes ?? {}),
                status: s.error ? { code: 2, message: typeof s.error === 'string' ? s.error : '' } : { code: 0 },
              })),
            },
          ],
        };
      }),
    };
    const res = await fetch(`${otlpUrl}/v1/traces`, {
      method: 'POST',
      body: Msg.encode(Msg.fromObject(message)).finish(),
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-protobuf' },
    });
    if (res.status !== 200) throw new Error(`OTLP traces answered ${res.status}: ${await res.text()}`);
  }
}

/** A seeded pseudo-random source (mulberry32): `next()` in [0, 1). */
export function seeded(seed: number): { next: () => number; around: (mean: number, spread: number) => number } {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, around: (mean, spread) => mean + (next() * 2 - 1) * spread };
}

/** Calls `each(t)` every `everyMs` over `[fromMs, toMs)`. */
export function every(fromMs: number, toMs: number, everyMs: number, each: (t: number, i: number) => void): void {
  for (let t = fromMs, i = 0; t < toMs; t += everyMs, i++) each(t, i);
}

/** Runs the query of every `/logs?q=…` link of the evidence over its range; throws if one does not run. */
export async function runLinkQueries(queries: { search: (text: string, o: { fromNs: bigint; toNs: bigint; limit?: number }) => Promise<unknown> }, links: readonly { href: string }[]): Promise<number> {
  let ran = 0;
  for (const l of links) {
    if (!l.href.startsWith('/logs?')) continue;
    const p = new URLSearchParams(l.href.slice('/logs?'.length));
    const text = p.get('q') ?? '';
    try {
      await queries.search(text, { fromNs: BigInt(p.get('from') ?? '0') * 1_000_000n, toNs: BigInt(p.get('to') ?? '0') * 1_000_000n, limit: 10 });
    } catch (err) {
      throw new Error(`link query does not run: ${text}: ${(err as Error).message}`);
    }
    ran++;
  }
  return ran;
}
