/**
 * OTLP request → Vigil rows. Protobuf (decoded by protobufjs) and JSON share one normaliser: both use
 * lowerCamelCase field names; they differ only in how ids (bytes vs hex), 64-bit integers (Long vs
 * string/number) and enums (number vs name) are spelled, which the small readers below absorb.
 * An item that breaks the spec (bad id length, missing value) is rejected alone and counted for
 * `partial_success`; a request that cannot be decoded at all throws {@link OtlpDecodeError}.
 */
import type {
  AttrValue,
  Attributes,
  LogRow,
  MetricRow,
  ResourceInfo,
  ScopeInfo,
  SpanEvent,
  SpanKind,
  SpanLink,
  SpanRow,
  StatusCode,
  TelemetryBatch,
  Temporality,
} from '../../model/telemetry.ts';
import { SPAN_KINDS, STATUS_CODES } from '../../model/telemetry.ts';
import { otlpTypes } from './proto.ts';

/** OTLP signals by their URL path segment. */
export type OtlpSignal = 'traces' | 'metrics' | 'logs';
/** The two OTLP/HTTP encodings. */
export type OtlpEncoding = 'protobuf' | 'json';

/** The request could not be decoded at all (answered 400). */
export class OtlpDecodeError extends Error {}

/** One item that breaks the spec: it is dropped and counted, the rest of the request is kept. */
class ItemError extends Error {}

/** Rows decoded from one request, with the count and reasons of items rejected. */
export interface DecodedRequest {
  batch: TelemetryBatch;
  rejected: number;
  errors: string[];
}

// Loose shapes: protobufjs messages and parsed JSON both fit; every field may be absent.
type Obj = Record<string, unknown>;
interface LongLike {
  low: number;
  high: number;
}

/** Decodes an OTLP/HTTP request body of one signal. */
export function decodeOtlp(signal: OtlpSignal, body: Uint8Array, encoding: OtlpEncoding): DecodedRequest {
  let message: Obj;
  if (encoding === 'protobuf') {
    try {
      message = otlpTypes()[signal].request.decode(body) as unknown as Obj;
    } catch (err) {
      throw new OtlpDecodeError(`invalid protobuf ${signal} request: ${(err as Error).message}`);
    }
  } else {
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
    } catch (err) {
      throw new OtlpDecodeError(`invalid JSON ${signal} request: ${(err as Error).message}`);
    }
    if (!isObj(parsed)) throw new OtlpDecodeError(`invalid JSON ${signal} request: expected an object at the top level`);
    message = parsed;
  }
  const out: DecodedRequest = { batch: { logs: [], spans: [], metrics: [] }, rejected: 0, errors: [] };
  // Anything an item throws rejects that item alone: one odd value must never fail the whole request.
  const reject = (err: unknown) => {
    out.rejected++;
    const message = err instanceof ItemError ? err.message : `item could not be decoded (${(err as Error)?.message ?? String(err)})`;
    if (out.errors.length < 5) out.errors.push(message);
  };
  if (signal === 'logs') decodeLogs(message, out.batch.logs, reject);
  else if (signal === 'traces') decodeSpans(message, out.batch.spans, reject);
  else decodeMetrics(message, out.batch.metrics, reject);
  return out;
}

/**
 * Visits every item of an export request — resource → scope → item, the shape all three signals
 * share — with its resource and scope; an item that throws {@link ItemError} is rejected alone.
 */
function eachItem(req: Obj, keys: readonly [string, string, string], reject: (err: unknown) => void, visit: (item: Obj, resource: ResourceInfo, scope: ScopeInfo) => void): void {
  const [resourceKey, scopeKey, itemKey] = keys;
  for (const r of list(req, resourceKey)) {
    let resource: ResourceInfo;
    try {
      resource = resourceInfo(r.resource);
    } catch (err) {
      // A resource that cannot be read rejects every item under it, each counted.
      for (const sc of list(r, scopeKey)) for (let i = list(sc, itemKey).length; i > 0; i--) reject(err);
      continue;
    }
    for (const sc of list(r, scopeKey)) {
      let scope: ScopeInfo;
      try {
        scope = scopeInfo(sc.scope);
      } catch (err) {
        for (let i = list(sc, itemKey).length; i > 0; i--) reject(err);
        continue;
      }
      for (const item of list(sc, itemKey)) {
        try {
          visit(item, resource, scope);
        } catch (err) {
          reject(err);
        }
      }
    }
  }
}

function decodeLogs(req: Obj, rows: LogRow[], reject: (err: unknown) => void): void {
  const nowNs = BigInt(Date.now()) * 1_000_000n;
  eachItem(req, ['resourceLogs', 'scopeLogs', 'logRecords'], reject, (lr, resource, scope) => {
    const observed = nanos(lr.observedTimeUnixNano);
    const time = nanos(lr.timeUnixNano) || observed || nowNs;
    const attributes = attrs(lr.attributes);
    const eventName = str(lr.eventName);
    if (eventName) attributes['event.name'] = eventName;
    rows.push({
      timeNs: time,
      observedTimeNs: observed || nowNs,
      traceId: id(lr.traceId, 16, 'traceId', true),
      spanId: id(lr.spanId, 8, 'spanId', true),
      traceFlags: num(lr.flags) & 0xff,
      severityNumber: enumNumber(lr.severityNumber, SEVERITY_NAMES, 'severityNumber'),
      severityText: str(lr.severityText),
      body: bodyText(lr.body),
      resource,
      scope,
      attributes,
    });
  });
}

function decodeSpans(req: Obj, rows: SpanRow[], reject: (err: unknown) => void): void {
  eachItem(req, ['resourceSpans', 'scopeSpans', 'spans'], reject, (sp, resource, scope) => {
    const start = nanos(sp.startTimeUnixNano);
    const end = nanos(sp.endTimeUnixNano);
    if (start === 0n) throw new ItemError('span without startTimeUnixNano');
    const status = isObj(sp.status) ? sp.status : {};
    rows.push({
      startTimeNs: start,
      durationNs: end > start ? end - start : 0n,
      traceId: id(sp.traceId, 16, 'traceId', false),
      spanId: id(sp.spanId, 8, 'spanId', false),
      parentSpanId: id(sp.parentSpanId, 8, 'parentSpanId', true),
      traceState: str(sp.traceState),
      name: str(sp.name),
      kind: (SPAN_KINDS[enumNumber(sp.kind, SPAN_KIND_NAMES, 'kind')] ?? 'Unspecified') as SpanKind,
      statusCode: (STATUS_CODES[enumNumber(status.code, STATUS_CODE_NAMES, 'status.code')] ?? 'Unset') as StatusCode,
      statusMessage: str(status.message),
      resource,
      scope,
      attributes: attrs(sp.attributes),
      events: list(sp, 'events').map(
        (e): SpanEvent => ({ timeNs: nanos(e.timeUnixNano), name: str(e.name), attributes: attrs(e.attributes) }),
      ),
      links: list(sp, 'links').map(
        (l): SpanLink => ({
          traceId: id(l.traceId, 16, 'link.traceId', false),
          spanId: id(l.spanId, 8, 'link.spanId', false),
          traceState: str(l.traceState),
          attributes: attrs(l.attributes),
        }),
      ),
    });
  });
}

function decodeMetrics(req: Obj, rows: MetricRow[], reject: (err: unknown) => void): void {
  eachItem(req, ['resourceMetrics', 'scopeMetrics', 'metrics'], reject, (m, resource, scope) => {
    const base = { name: str(m.name), description: str(m.description), unit: str(m.unit), resource, scope };
    if (!base.name) throw new ItemError('metric without a name');
    // Data points are rejected one by one, like items.
    const point = (fn: (p: Obj) => MetricRow[]) => (p: Obj) => {
      try {
        rows.push(...fn(p));
      } catch (err) {
        reject(err);
      }
    };
    if (isObj(m.gauge)) {
      list(m.gauge, 'dataPoints').forEach(point((p) => [numberPoint(base, p, 'gauge', 'unspecified', false)]));
    } else if (isObj(m.sum)) {
      const temporality = temporalityOf(m.sum.aggregationTemporality);
      const monotonic = m.sum.isMonotonic === true;
      list(m.sum, 'dataPoints').forEach(point((p) => [numberPoint(base, p, 'sum', temporality, monotonic)]));
    } else if (isObj(m.histogram)) {
      const temporality = temporalityOf(m.histogram.aggregationTemporality);
      list(m.histogram, 'dataPoints').forEach(point((p) => [histogramPoint(base, p, temporality)]));
    } else if (isObj(m.exponentialHistogram)) {
      const temporality = temporalityOf(m.exponentialHistogram.aggregationTemporality);
      list(m.exponentialHistogram, 'dataPoints').forEach(point((p) => [exponentialPoint(base, p, temporality)]));
    } else if (isObj(m.summary)) {
      list(m.summary, 'dataPoints').forEach(point((p) => summaryPoints(base, p)));
    } else {
      throw new ItemError(`metric ${base.name} has no data`);
    }
  });
}

type MetricBase = Pick<MetricRow, 'name' | 'description' | 'unit' | 'resource' | 'scope'>;

function emptyMetric(base: MetricBase, p: Obj): MetricRow {
  return {
    ...base,
    kind: 'gauge',
    startTimeNs: nanos(p.startTimeUnixNano),
    timeNs: nanos(p.timeUnixNano),
    attributes: attrs(p.attributes),
    flags: num(p.flags),
    value: 0,
    temporality: 'unspecified',
    isMonotonic: false,
    count: 0,
    sum: null,
    min: null,
    max: null,
    bucketCounts: [],
    explicitBounds: [],
  };
}

function numberPoint(base: MetricBase, p: Obj, kind: 'gauge' | 'sum', temporality: Temporality, monotonic: boolean): MetricRow {
  let value: number;
  if (has(p, 'asDouble')) value = num(p.asDouble);
  else if (has(p, 'asInt')) value = Number(int64(p.asInt));
  else throw new ItemError(`data point of ${base.name} has no value`);
  return { ...emptyMetric(base, p), kind, value, temporality, isMonotonic: monotonic };
}

function histogramPoint(base: MetricBase, p: Obj, temporality: Temporality): MetricRow {
  const bucketCounts = arr(p.bucketCounts).map((c) => Number(int64(c)));
  const explicitBounds = arr(p.explicitBounds).map(num);
  if (bucketCounts.length !== 0 && bucketCounts.length !== explicitBounds.length + 1) {
    throw new ItemError(`histogram ${base.name}: ${bucketCounts.length} bucket counts for ${explicitBounds.length} bounds`);
  }
  return histogramRow(base, p, temporality, bucketCounts, explicitBounds);
}

/** A histogram row from a (explicit or converted) data point's common fields and its buckets. */
function histogramRow(base: MetricBase, p: Obj, temporality: Temporality, bucketCounts: number[], explicitBounds: number[]): MetricRow {
  return {
    ...emptyMetric(base, p),
    kind: 'histogram',
    temporality,
    count: Number(int64(p.count)),
    sum: has(p, 'sum') ? num(p.sum) : null,
    min: has(p, 'min') ? num(p.min) : null,
    max: has(p, 'max') ? num(p.max) : null,
    bucketCounts,
    explicitBounds,
  };
}

/**
 * Exponential buckets become explicit ones: bucket i of scale s covers (base^i, base^(i+1)] with
 * base = 2^(2^-s). Negative buckets and the zero bucket fold into the lowest bucket, so counts and
 * quantiles above zero stay exact at the bucket resolution the sender chose.
 */
function exponentialPoint(base: MetricBase, p: Obj, temporality: Temporality): MetricRow {
  const scale = num(p.scale);
  const b = Math.pow(2, Math.pow(2, -scale));
  const positive = isObj(p.positive) ? p.positive : {};
  const negative = isObj(p.negative) ? p.negative : {};
  const offset = num(positive.offset);
  const counts = arr(positive.bucketCounts).map((c) => Number(int64(c)));
  const below = Number(int64(p.zeroCount)) + arr(negative.bucketCounts).reduce<number>((s, c) => s + Number(int64(c)), 0);
  const explicitBounds: number[] = [];
  const bucketCounts: number[] = [below];
  explicitBounds.push(Math.pow(b, offset));
  for (let i = 0; i < counts.length; i++) {
    bucketCounts.push(counts[i] ?? 0);
    explicitBounds.push(Math.pow(b, offset + i + 1));
  }
  bucketCounts.push(0);
  return histogramRow(base, p, temporality, bucketCounts, explicitBounds);
}

/** Summaries (legacy) become gauges: `name.count`, `name.sum`, and `name` with a `quantile` attribute. */
function summaryPoints(base: MetricBase, p: Obj): MetricRow[] {
  const row = emptyMetric(base, p);
  const out: MetricRow[] = [
    { ...row, name: `${base.name}.count`, value: Number(int64(p.count)) },
    { ...row, name: `${base.name}.sum`, value: num(p.sum) },
  ];
  for (const q of list(p, 'quantileValues')) {
    out.push({ ...row, attributes: { ...row.attributes, quantile: num(q.quantile) }, value: num(q.value) });
  }
  return out;
}

// ---- readers that absorb the protobuf/JSON differences ----

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

function list(o: unknown, key: string): Obj[] {
  if (!isObj(o)) return [];
  return arr(o[key]).filter(isObj);
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v !== '') {
    const n = Number(v);
    if (!Number.isNaN(n)) return n;
    // proto3 JSON spells non-finite doubles as strings.
    if (v === 'NaN') return NaN;
  }
  if (isLong(v)) return Number(int64(v));
  return 0;
}

/**
 * Whether a field was present. protobufjs keeps defaults (including of oneof members) on the message
 * prototype and sets only present fields as own properties, which is also how parsed JSON looks.
 */
function has(o: Obj, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(o, key) && o[key] !== null && o[key] !== undefined;
}

function isLong(v: unknown): v is LongLike {
  return typeof v === 'object' && v !== null && typeof (v as LongLike).low === 'number' && typeof (v as LongLike).high === 'number';
}

/** A signed or unsigned 64-bit integer from a Long, a decimal string or a number. */
function int64(v: unknown): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? BigInt(Math.trunc(v)) : 0n;
  if (typeof v === 'string') {
    if (!/^-?\d+$/.test(v)) throw new ItemError(`invalid integer "${v.slice(0, 40)}"`);
    return BigInt(v);
  }
  if (isLong(v)) {
    const unsigned = (v as { unsigned?: boolean }).unsigned === true;
    const raw = (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0);
    return unsigned ? raw : BigInt.asIntN(64, raw);
  }
  return 0n;
}

/** A Unix-nanosecond timestamp; 0n when absent. */
function nanos(v: unknown): bigint {
  const n = int64(v);
  return n < 0n ? 0n : BigInt.asUintN(64, n);
}

const HEX = /^[0-9a-fA-F]*$/;

/** A trace or span id as lowercase hex; '' when absent and allowed. */
function id(v: unknown, bytes: number, field: string, optional: boolean): string {
  let hex: string;
  if (v instanceof Uint8Array) {
    if (v.length === 0) hex = '';
    else if (v.length !== bytes) throw new ItemError(`${field} must be ${bytes} bytes, got ${v.length}`);
    else hex = Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex');
  } else if (typeof v === 'string') {
    if (v.length !== 0 && (v.length !== bytes * 2 || !HEX.test(v))) {
      throw new ItemError(`${field} must be ${bytes * 2} hex characters`);
    }
    hex = v.toLowerCase();
  } else if (v === undefined || v === null || (Array.isArray(v) && v.length === 0)) {
    hex = '';
  } else {
    throw new ItemError(`${field} has an invalid type`);
  }
  if (hex === '' || /^0+$/.test(hex)) {
    if (optional) return '';
    throw new ItemError(`${field} is missing or all zero`);
  }
  return hex;
}

const SEVERITY_NAMES = [
  'UNSPECIFIED', 'TRACE', 'TRACE2', 'TRACE3', 'TRACE4', 'DEBUG', 'DEBUG2', 'DEBUG3', 'DEBUG4',
  'INFO', 'INFO2', 'INFO3', 'INFO4', 'WARN', 'WARN2', 'WARN3', 'WARN4', 'ERROR', 'ERROR2', 'ERROR3', 'ERROR4',
  'FATAL', 'FATAL2', 'FATAL3', 'FATAL4',
].map((s) => `SEVERITY_NUMBER_${s}`);
const SPAN_KIND_NAMES = ['UNSPECIFIED', 'INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'].map((s) => `SPAN_KIND_${s}`);
const STATUS_CODE_NAMES = ['STATUS_CODE_UNSET', 'STATUS_CODE_OK', 'STATUS_CODE_ERROR'];
const TEMPORALITY_NAMES = ['UNSPECIFIED', 'DELTA', 'CUMULATIVE'].map((s) => `AGGREGATION_TEMPORALITY_${s}`);

/** An enum given as its number or (JSON) its name. */
function enumNumber(v: unknown, names: readonly string[], field: string): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    const i = names.indexOf(v);
    if (i >= 0) return i;
    if (/^\d+$/.test(v)) return Number(v);
  }
  throw new ItemError(`${field} has an unknown value ${JSON.stringify(v).slice(0, 40)}`);
}

function temporalityOf(v: unknown): Temporality {
  const n = enumNumber(v, TEMPORALITY_NAMES, 'aggregationTemporality');
  return n === 1 ? 'delta' : n === 2 ? 'cumulative' : 'unspecified';
}

/** An OTLP AnyValue as a plain JSON value. */
function anyValue(v: unknown): AttrValue {
  if (!isObj(v)) return null;
  if (has(v, 'stringValue')) return str(v.stringValue);
  if (has(v, 'boolValue')) return v.boolValue === true;
  if (has(v, 'intValue')) {
    const n = int64(v.intValue);
    // Keep JSON numbers exact: beyond 2^53 the decimal string is the honest form.
    return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n.toString();
  }
  if (has(v, 'doubleValue')) return num(v.doubleValue);
  if (has(v, 'arrayValue')) return list(v.arrayValue, 'values').map(anyValue);
  if (has(v, 'kvlistValue')) return isObj(v.kvlistValue) ? attrs(v.kvlistValue.values) : {};
  if (has(v, 'bytesValue')) {
    return v.bytesValue instanceof Uint8Array ? Buffer.from(v.bytesValue).toString('base64') : str(v.bytesValue);
  }
  return null;
}

function attrs(kvs: unknown): Attributes {
  const out: Attributes = {};
  for (const kv of arr(kvs)) {
    if (isObj(kv) && typeof kv.key === 'string') out[kv.key] = anyValue(kv.value);
  }
  return out;
}

function bodyText(v: unknown): string {
  const value = anyValue(v);
  if (value === null) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function attrString(a: Attributes, key: string): string {
  const v = a[key];
  return v === undefined || v === null ? '' : typeof v === 'string' ? v : String(v);
}

/** Resource attributes with the hot ones promoted (OTel semantic conventions). */
export function resourceFromAttributes(attributes: Attributes): ResourceInfo {
  return {
    serviceName: attrString(attributes, 'service.name') || 'unknown_service',
    serviceNamespace: attrString(attributes, 'service.namespace'),
    serviceVersion: attrString(attributes, 'service.version'),
    hostName: attrString(attributes, 'host.name'),
    attributes,
  };
}

function resourceInfo(v: unknown): ResourceInfo {
  return resourceFromAttributes(isObj(v) ? attrs(v.attributes) : {});
}

function scopeInfo(v: unknown): ScopeInfo {
  return isObj(v) ? { name: str(v.name), version: str(v.version) } : { name: '', version: '' };
}

/** Encodes an export response: empty on full success, `partial_success` when items were rejected. */
export function encodeOtlpResponse(signal: OtlpSignal, rejected: number, message: string, encoding: OtlpEncoding): Uint8Array | string {
  const countField = signal === 'traces' ? 'rejectedSpans' : signal === 'logs' ? 'rejectedLogRecords' : 'rejectedDataPoints';
  // With nothing rejected, a message is a warning (OTLP spec: partial_success with a zero count).
  const partial = rejected > 0 || message !== '';
  const body = partial ? { partialSuccess: { [countField]: rejected, errorMessage: message } } : {};
  if (encoding === 'json') {
    // proto3 JSON writes int64 as a string.
    return partial ? JSON.stringify({ partialSuccess: { [countField]: String(rejected), errorMessage: message } }) : '{}';
  }
  const type = otlpTypes()[signal].response;
  return type.encode(type.fromObject(body)).finish();
}

/** Encodes a google.rpc.Status error body (OTLP/HTTP failure responses). */
export function encodeOtlpStatus(code: number, message: string, encoding: OtlpEncoding): Uint8Array | string {
  if (encoding === 'json') return JSON.stringify({ code, message });
  const type = otlpTypes().status;
  return type.encode(type.fromObject({ code, message })).finish();
}
