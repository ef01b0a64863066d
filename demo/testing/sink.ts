/**
 * Test sinks standing in for Vigil's receivers: an OTLP/HTTP server that decodes the protobuf bodies the official
 * exporters send (a minimal wire-format reader: @opentelemetry/otlp-transformer only serializes requests), and a
 * Splunk HEC server that records events.
 */
import http from 'node:http';
import zlib from 'node:zlib';
import type { AddressInfo } from 'node:net';

type Field = { n: number; wire: number; v: bigint | Buffer };

/** Splits one protobuf message into its fields. */
function fields(buf: Buffer): Field[] {
  const out: Field[] = [];
  let i = 0;
  const varint = (): bigint => {
    let shift = 0n;
    let v = 0n;
    for (;;) {
      const b = buf[i++];
      if (b === undefined) throw new Error('truncated varint');
      v |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
      shift += 7n;
    }
  };
  while (i < buf.length) {
    const key = Number(varint());
    const n = key >>> 3;
    const wire = key & 7;
    if (wire === 0) out.push({ n, wire, v: varint() });
    else if (wire === 1) {
      out.push({ n, wire, v: buf.subarray(i, i + 8) });
      i += 8;
    } else if (wire === 2) {
      const len = Number(varint());
      out.push({ n, wire, v: buf.subarray(i, i + len) });
      i += len;
    } else if (wire === 5) {
      out.push({ n, wire, v: buf.subarray(i, i + 4) });
      i += 4;
    } else throw new Error(`unsupported wire type ${wire}`);
  }
  return out;
}

const all = (f: Field[], n: number) => f.filter((x) => x.n === n).map((x) => x.v);
const one = (f: Field[], n: number) => f.find((x) => x.n === n)?.v;
const str = (v: bigint | Buffer | undefined) => (Buffer.isBuffer(v) ? v.toString('utf8') : '');
const hex = (v: bigint | Buffer | undefined) => (Buffer.isBuffer(v) ? v.toString('hex') : '');
const int = (v: bigint | Buffer | undefined) => (typeof v === 'bigint' ? Number(v) : Buffer.isBuffer(v) && v.length === 8 ? Number(v.readBigUInt64LE()) : 0);

/** An attribute value, flattened to string | number | boolean. */
export type AttrValue = string | number | boolean;

function anyValue(buf: Buffer): AttrValue {
  const f = fields(buf)[0];
  if (!f) return '';
  if (f.n === 1) return str(f.v);
  if (f.n === 2) return f.v === 1n;
  if (f.n === 3) return Number(BigInt.asIntN(64, f.v as bigint));
  if (f.n === 4) return (f.v as Buffer).readDoubleLE();
  return `<${f.n}>`;
}

function attrs(list: (bigint | Buffer)[]): Record<string, AttrValue> {
  const out: Record<string, AttrValue> = {};
  for (const kv of list) {
    const f = fields(kv as Buffer);
    const v = one(f, 2);
    out[str(one(f, 1))] = Buffer.isBuffer(v) ? anyValue(v) : '';
  }
  return out;
}

/** A decoded span. */
export interface SinkSpan {
  resource: Record<string, AttrValue>;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  durationMs: number;
  attributes: Record<string, AttrValue>;
  events: { name: string; attributes: Record<string, AttrValue> }[];
  statusCode: number;
}

/** A decoded log record. */
export interface SinkLog {
  resource: Record<string, AttrValue>;
  severityNumber: number;
  severityText: string;
  body: AttrValue;
  attributes: Record<string, AttrValue>;
  traceId: string;
  spanId: string;
}

/** A decoded metric data point (gauges and sums give `value`, histograms `count`/`sum`). */
export interface SinkPoint {
  resource: Record<string, AttrValue>;
  name: string;
  attributes: Record<string, AttrValue>;
  value?: number;
  count?: number;
  sum?: number;
}

/** Decodes an ExportTraceServiceRequest. */
export function decodeTraces(buf: Buffer): SinkSpan[] {
  const spans: SinkSpan[] = [];
  for (const rs of all(fields(buf), 1)) {
    const rsf = fields(rs as Buffer);
    const res = one(rsf, 1);
    const resource = Buffer.isBuffer(res) ? attrs(all(fields(res), 1)) : {};
    for (const ss of all(rsf, 2)) {
      for (const sp of all(fields(ss as Buffer), 2)) {
        const f = fields(sp as Buffer);
        const status = one(f, 15);
        spans.push({
          resource,
          traceId: hex(one(f, 1)),
          spanId: hex(one(f, 2)),
          parentSpanId: hex(one(f, 4)),
          name: str(one(f, 5)),
          kind: int(one(f, 6)),
          durationMs: (int(one(f, 8)) - int(one(f, 7))) / 1e6,
          attributes: attrs(all(f, 9)),
          events: all(f, 11).map((e) => {
            const ef = fields(e as Buffer);
            return { name: str(one(ef, 2)), attributes: attrs(all(ef, 3)) };
          }),
          statusCode: Buffer.isBuffer(status) ? int(one(fields(status), 3)) : 0,
        });
      }
    }
  }
  return spans;
}

/** Decodes an ExportLogsServiceRequest. */
export function decodeLogs(buf: Buffer): SinkLog[] {
  const out: SinkLog[] = [];
  for (const rl of all(fields(buf), 1)) {
    const rlf = fields(rl as Buffer);
    const res = one(rlf, 1);
    const resource = Buffer.isBuffer(res) ? attrs(all(fields(res), 1)) : {};
    for (const sl of all(rlf, 2)) {
      for (const lr of all(fields(sl as Buffer), 2)) {
        const f = fields(lr as Buffer);
        const body = one(f, 5);
        out.push({
          resource,
          severityNumber: int(one(f, 2)),
          severityText: str(one(f, 3)),
          body: Buffer.isBuffer(body) ? anyValue(body) : '',
          attributes: attrs(all(f, 6)),
          traceId: hex(one(f, 9)),
          spanId: hex(one(f, 10)),
        });
      }
    }
  }
  return out;
}

/** Decodes an ExportMetricsServiceRequest into data points. */
export function decodeMetrics(buf: Buffer): SinkPoint[] {
  const out: SinkPoint[] = [];
  for (const rm of all(fields(buf), 1)) {
    const rmf = fields(rm as Buffer);
    const res = one(rmf, 1);
    const resource = Buffer.isBuffer(res) ? attrs(all(fields(res), 1)) : {};
    for (const sm of all(rmf, 2)) {
      for (const m of all(fields(sm as Buffer), 2)) {
        const mf = fields(m as Buffer);
        const name = str(one(mf, 1));
        for (const kind of [5, 7, 9]) {
          const data = one(mf, kind);
          if (!Buffer.isBuffer(data)) continue;
          for (const dp of all(fields(data), 1)) {
            const f = fields(dp as Buffer);
            if (kind === 9) {
              const sum = one(f, 5);
              out.push({ resource, name, attributes: attrs(all(f, 9)), count: int(one(f, 4)), sum: Buffer.isBuffer(sum) ? sum.readDoubleLE() : 0 });
            } else {
              const d = one(f, 4);
              const n = one(f, 6);
              const value = Buffer.isBuffer(d) ? d.readDoubleLE() : Buffer.isBuffer(n) ? Number(n.readBigInt64LE()) : 0;
              out.push({ resource, name, attributes: attrs(all(f, 7)), value });
            }
          }
        }
      }
    }
  }
  return out;
}

/** Splits a HEC body: concatenated JSON objects, optionally separated by whitespace. */
export function splitHec(text: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  let depth = 0;
  let start = -1;
  let inStr = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inStr) {
      if (c === '\\') i++;
      else if (c === '"') inStr = false;
    } else if (c === '"') inStr = true;
    else if (c === '{') {
      if (depth++ === 0) start = i;
    } else if (c === '}' && --depth === 0) out.push(JSON.parse(text.slice(start, i + 1)) as Record<string, unknown>);
  }
  return out;
}

/** What a sink recorded so far. */
export interface Sink {
  url: string;
  spans: SinkSpan[];
  logs: SinkLog[];
  points: SinkPoint[];
  hec: Record<string, unknown>[];
  requests: { path: string; contentType: string; auth: string; bytes: number }[];
  close(): Promise<void>;
}

/** Starts a combined OTLP + HEC sink on 127.0.0.1:0 (OTLP under /v1/*, HEC under /services/collector/*). */
export async function startSink(): Promise<Sink> {
  const sink: Omit<Sink, 'url' | 'close'> = { spans: [], logs: [], points: [], hec: [], requests: [] };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') body = zlib.gunzipSync(body);
      const path = (req.url ?? '').split('?')[0] ?? '';
      sink.requests.push({ path, contentType: String(req.headers['content-type'] ?? ''), auth: String(req.headers.authorization ?? ''), bytes: body.length });
      try {
        if (path === '/v1/traces') sink.spans.push(...decodeTraces(body));
        else if (path === '/v1/logs') sink.logs.push(...decodeLogs(body));
        else if (path === '/v1/metrics') sink.points.push(...decodeMetrics(body));
        else if (path.startsWith('/services/collector')) {
          sink.hec.push(...splitHec(body.toString('utf8')));
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end('{"text":"Success","code":0}');
          return;
        }
      } catch (err) {
        res.writeHead(400);
        res.end(String(err));
        return;
      }
      // An empty protobuf Export*ServiceResponse is a zero-length body.
      res.writeHead(200, { 'content-type': 'application/x-protobuf' });
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return Object.assign(sink, {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  });
}
