/**
 * Test support: a recording OTLP relay and a replay of what it recorded into the past, so that a Vigil
 * that has just started has the history an installation watching the demo for a while would have.
 *
 * Diagnosis compares an incident window with the half hour before it, and anomaly rules with their own
 * recent past; a test cannot wait that long. So the demo exports through {@link startOtlpRelay}, which
 * forwards every request to Vigil unchanged; {@link recordHistory} taps it for a while and posts what it
 * sees again, shifted back by one recording length per copy, until the copies cover the asked-for
 * history. The history is the demo's own healthy telemetry, not invented data: only the
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
  /** Hands every protobuf request that passes from now on to `listener` (undefined: stop). */
  tap(listener: ((r: Recorded) => void) | undefined): void;
  close(): Promise<void>;
}

const SIGNALS: Record<string, Signal> = { '/v1/traces': 'traces', '/v1/metrics': 'metrics', '/v1/logs': 'logs' };

/** Starts a relay on loopback forwarding OTLP/HTTP requests to `target` (Vigil's OTLP base URL). */
export async function startOtlpRelay(target: string): Promise<OtlpRelay> {
  let listener: ((r: Recorded) => void) | undefined;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const signal = SIGNALS[req.url ?? ''];
      if (listener && signal && /protobuf/.test(String(req.headers['content-type']))) {
        listener({ signal, body: req.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body });
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
    tap(l) {
      listener = l;
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
 * Records what passes the relay for `recordMs` and posts each request again as it arrives, copy k
 * shifted back by k × `recordMs`, so the copies tile the `historyMs` before the recording (recording
 * and replay overlap: the setup takes about the recording's length). Requests of one signal are merged
 * (concatenated protobuf messages are one message with the repeated fields of both) into posts of at
 * most ~1 MiB. Decoded messages are patched in place per copy, no deep copies: this runs on a busy
 * machine. Resolves with the number of copies and the bytes recorded once everything is posted.
 */
export async function recordHistory(relay: OtlpRelay, target: ReplayTarget, recordMs: number, historyMs: number): Promise<{ copies: number; bytes: number; requests: number }> {
  const types = otlpTypes();
  const copies = Math.ceil(historyMs / recordMs);
  const queue: Recorded[] = [];
  let bytes = 0;
  let requests = 0;
  relay.tap((r) => queue.push(r));
  const endAt = Date.now() + recordMs;
  const post = async (signal: Signal, body: Buffer) => {
    const res = await fetch(`${target.otlpUrl}/v1/${signal}`, {
      method: 'POST',
      body,
      headers: { authorization: `Bearer ${target.token}`, 'content-type': 'application/x-protobuf' },
    });
    if (res.status !== 200) throw new Error(`replaying ${signal} history: ${res.status} ${await res.text()}`);
  };
  try {
    for (;;) {
      const done = Date.now() >= endAt;
      if (done) relay.tap(undefined);
      const taken = queue.splice(0);
      if (taken.length === 0) {
        if (done) break;
        await new Promise((r) => setTimeout(r, 500));
        continue;
      }
      requests += taken.length;
      bytes += taken.reduce((n, r) => n + r.body.length, 0);
      const decoded = taken.map((r) => {
        const message = types[r.signal].request.decode(r.body) as unknown as Json;
        if (r.signal === 'metrics') keepReplayableMetrics(message);
        return { signal: r.signal, message, patches: patchesOf(message, { times: [], traceIds: [] }) };
      });
      for (let copy = 1; copy <= copies; copy++) {
        const shiftNs = copy * recordMs * 1e6;
        const batches: { signal: Signal; parts: Uint8Array[]; bytes: number }[] = [];
        const open = new Map<Signal, (typeof batches)[number]>();
        for (const d of decoded) {
          for (const t of d.patches.times) t.obj[t.key] = t.ns - shiftNs;
          for (const t of d.patches.traceIds) {
            t.id[0] = t.b0 ^ (copy & 0xff);
            t.id[1] = t.b1 ^ 0xa5;
          }
          const encoded = types[d.signal].request.encode(d.message).finish();
          let batch = open.get(d.signal);
          if (!batch || batch.bytes + encoded.length > 1024 * 1024) {
            batch = { signal: d.signal, parts: [], bytes: 0 };
            batches.push(batch);
            open.set(d.signal, batch);
          }
          batch.parts.push(encoded);
          batch.bytes += encoded.length;
        }
        await Promise.all(batches.map((b) => post(b.signal, Buffer.concat(b.parts))));
      }
    }
  } finally {
    relay.tap(undefined);
  }
  return { copies, bytes, requests };
}
