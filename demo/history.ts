/**
 * Test support: a recording OTLP relay and a replay of what it recorded into the past, so that a Vigil
 * that has just started has the history an installation watching the demo for a while would have.
 *
 * Diagnosis compares an incident window with the half hour before it, and anomaly rules with their own
 * recent past; a test cannot wait that long. So the demo exports through {@link startOtlpRelay}, which
 * forwards every request to Vigil unchanged and keeps a copy while recording; {@link replayAsHistory}
 * then posts the recording again, shifted back by one recording length per copy, until it covers the
 * asked-for history. The history is the demo's own healthy telemetry, not invented data: only the
 * timestamps move (and trace ids, so copies never join each other's traces).
 *
 * Cumulative metrics (histograms, monotonic sums) are not replayed: copies of them would look like a
 * counter resetting every minute. Gauges and up-down sums (CPU, memory, disk, pool connections) are.
 */
import http from 'node:http';
import type net from 'node:net';
import { gunzipSync } from 'node:zlib';
import { otlpTypes } from '../src/ingest/otlp/proto.ts';

type Signal = 'traces' | 'metrics' | 'logs';

/** One request the relay kept. */
interface Recorded {
  signal: Signal;
  body: Buffer;
}

/** A running relay: `url` is the OTLP base URL to give the demo. */
export interface OtlpRelay {
  url: string;
  /** Starts keeping copies of what passes (from now). */
  record(): void;
  /** Stops keeping copies; returns what was recorded and over how long (ms). */
  stop(): { recorded: Recorded[]; fromMs: number; toMs: number };
  close(): Promise<void>;
}

const SIGNALS: Record<string, Signal> = { '/v1/traces': 'traces', '/v1/metrics': 'metrics', '/v1/logs': 'logs' };

/** Starts a relay on loopback forwarding OTLP/HTTP requests to `target` (Vigil's OTLP base URL). */
export async function startOtlpRelay(target: string): Promise<OtlpRelay> {
  let recording: Recorded[] | undefined;
  let fromMs = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const signal = SIGNALS[req.url ?? ''];
      if (recording && signal && /protobuf/.test(String(req.headers['content-type']))) {
        recording.push({ signal, body: req.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body });
      }
      const headers: Record<string, string> = {};
      for (const h of ['authorization', 'content-type', 'content-encoding']) if (req.headers[h]) headers[h] = String(req.headers[h]);
      fetch(`${target}${req.url}`, { method: req.method, headers, body: req.method === 'POST' ? body : undefined, signal: AbortSignal.timeout(20_000) })
        .then(async (answer) => {
          const out = Buffer.from(await answer.arrayBuffer());
          res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/x-protobuf' }).end(out);
        })
        .catch(() => res.writeHead(502).end());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    record() {
      recording = [];
      fromMs = Date.now();
    },
    stop() {
      const recorded = recording ?? [];
      recording = undefined;
      return { recorded, fromMs, toMs: Date.now() };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

type Json = Record<string, unknown>;

/** Drops metrics whose copies would read as counter resets (histograms, monotonic sums). */
function keepReplayableMetrics(request: Json): void {
  for (const rm of (request.resourceMetrics as Json[] | undefined) ?? []) {
    for (const sm of (rm.scopeMetrics as Json[] | undefined) ?? []) {
      sm.metrics = ((sm.metrics as Json[] | undefined) ?? []).filter((m) => m.gauge != null || (m.sum != null && !(m.sum as Json).isMonotonic));
    }
  }
}

/** The places in a decoded message a copy changes: times (with their recorded value, ns) and trace ids. */
interface Patches {
  times: { obj: Json; key: string; ns: number }[];
  traceIds: { id: Uint8Array; b0: number; b1: number }[];
}

/** Finds every `*UnixNano` and `traceId` of a decoded message, once. */
function patchesOf(value: unknown, into: Patches): Patches {
  if (Array.isArray(value)) for (const v of value) patchesOf(v, into);
  else if (value !== null && typeof value === 'object' && !(value instanceof Uint8Array)) {
    for (const [k, v] of Object.entries(value as Json)) {
      if (k.endsWith('UnixNano')) {
        // Doubles hold epoch nanoseconds to within a quarter of a microsecond: plenty for a copy.
        const ns = typeof v === 'number' ? v : Number(String(v));
        if (ns > 0) into.times.push({ obj: value as Json, key: k, ns });
      } else if (k === 'traceId' && v instanceof Uint8Array && v.length > 1) into.traceIds.push({ id: v, b0: v[0]!, b1: v[1]! });
      else patchesOf(v, into);
    }
  }
  return into;
}

/** What {@link replayAsHistory} posts to. */
export interface ReplayTarget {
  otlpUrl: string;
  token: string;
}

/**
 * Posts copies of a recording spanning `[fromMs, toMs)`, copy k shifted back by k recording lengths, so
 * they tile the `historyMs` before the recording. Requests of one signal are merged (concatenated
 * protobuf messages are one message with the repeated fields of both) into posts of at most ~1 MiB.
 * The decoded messages are patched in place per copy (no deep copies: this runs on a busy machine).
 * Returns how many copies were posted.
 */
export async function replayAsHistory(target: ReplayTarget, recording: { recorded: Recorded[]; fromMs: number; toMs: number }, historyMs: number): Promise<number> {
  const types = otlpTypes();
  const spanMs = recording.toMs - recording.fromMs;
  const copies = Math.ceil(historyMs / spanMs);
  const decoded = recording.recorded.map((r) => {
    const message = types[r.signal].request.decode(r.body) as unknown as Json;
    if (r.signal === 'metrics') keepReplayableMetrics(message);
    return { signal: r.signal, message, patches: patchesOf(message, { times: [], traceIds: [] }) };
  });
  const post = async (signal: Signal, body: Buffer) => {
    const res = await fetch(`${target.otlpUrl}/v1/${signal}`, {
      method: 'POST',
      body,
      headers: { authorization: `Bearer ${target.token}`, 'content-type': 'application/x-protobuf' },
    });
    if (res.status !== 200) throw new Error(`replaying ${signal} history: ${res.status} ${await res.text()}`);
  };
  for (let copy = 1; copy <= copies; copy++) {
    const shiftNs = copy * spanMs * 1e6;
    const batches: { signal: Signal; parts: Uint8Array[]; bytes: number }[] = [];
    const open = new Map<Signal, (typeof batches)[number]>();
    for (const d of decoded) {
      for (const t of d.patches.times) t.obj[t.key] = t.ns - shiftNs;
      for (const t of d.patches.traceIds) {
        t.id[0] = t.b0 ^ (copy & 0xff);
        t.id[1] = t.b1 ^ 0xa5;
      }
      const bytes = types[d.signal].request.encode(d.message).finish();
      let batch = open.get(d.signal);
      if (!batch || batch.bytes + bytes.length > 1024 * 1024) {
        batch = { signal: d.signal, parts: [], bytes: 0 };
        batches.push(batch);
        open.set(d.signal, batch);
      }
      batch.parts.push(bytes);
      batch.bytes += bytes.length;
    }
    // Two posts at a time: the demo keeps sending live telemetry meanwhile.
    for (let i = 0; i < batches.length; i += 2) {
      await Promise.all(batches.slice(i, i + 2).map((b) => post(b.signal, Buffer.concat(b.parts))));
    }
  }
  return copies;
}
