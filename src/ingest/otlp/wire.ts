/**
 * A direct protobuf decoder for the two high-volume OTLP requests (logs and traces): it reads the
 * wire format straight into Vigil's rows, without building protobufjs message objects first — the
 * generic path allocates a message, a Long and a oneof wrapper per field and was the largest cost of
 * ingest after storage. Its output equals `decodeOtlp`'s on the same bytes (a differential test
 * checks that on generated requests); metrics stay on the generic path (low volume, many shapes).
 */
import type { Attributes, AttrValue, LogRow, ResourceInfo, ScopeInfo, SpanEvent, SpanLink, SpanRow } from '../../model/telemetry.ts';
import { SPAN_KINDS, STATUS_CODES } from '../../model/telemetry.ts';
import { OtlpDecodeError, resourceFromAttributes, type DecodedRequest } from './decode.ts';

/** An item that breaks the spec; rejected alone, as in the generic decoder. */
class ItemError extends Error {}

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;

/** A cursor over protobuf bytes. */
class Reader {
  pos: number;
  constructor(
    readonly buf: Buffer,
    start: number,
    readonly end: number,
    /** The signal, for error messages. */
    readonly signal: string,
  ) {
    this.pos = start;
  }

  private fail(what: string): never {
    throw new OtlpDecodeError(`invalid protobuf ${this.signal} request: ${what} at byte ${this.pos}`);
  }

  /** A varint as a number (exact up to 2^53; larger values only occur in int64 fields, read with varint64). */
  varint(): number {
    let result = 0;
    let shift = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) this.fail('truncated varint');
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * shift;
      if (b < 0x80) return result;
      shift *= 128;
    }
    return this.fail('varint too long');
  }

  /** A varint as a signed 64-bit bigint (int64 fields). */
  varint64(): bigint {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) this.fail('truncated varint');
      const b = this.buf[this.pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return BigInt.asIntN(64, result);
      shift += 7n;
    }
    return this.fail('varint too long');
  }

  fixed32(): number {
    if (this.pos + 4 > this.end) this.fail('truncated fixed32');
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  fixed64(): bigint {
    if (this.pos + 8 > this.end) this.fail('truncated fixed64');
    const v = this.buf.readBigUInt64LE(this.pos);
    this.pos += 8;
    return v;
  }

  double(): number {
    if (this.pos + 8 > this.end) this.fail('truncated double');
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }

  /** The bounds of a length-delimited field. */
  len(): [number, number] {
    const n = this.varint();
    const start = this.pos;
    if (start + n > this.end) this.fail('length past the end');
    this.pos = start + n;
    return [start, start + n];
  }

  string(): string {
    const [s, e] = this.len();
    return this.buf.toString('utf8', s, e);
  }

  /** A sub-reader over a length-delimited field. */
  sub(): Reader {
    const [s, e] = this.len();
    return new Reader(this.buf, s, e, this.signal);
  }

  skip(wire: number): void {
    if (wire === WIRE_VARINT) this.varint();
    else if (wire === WIRE_FIXED64) this.pos += 8;
    else if (wire === WIRE_LEN) this.len();
    else if (wire === WIRE_FIXED32) this.pos += 4;
    else this.fail(`unsupported wire type ${wire}`);
    if (this.pos > this.end) this.fail('truncated field');
  }

  /** Field number and wire type of the last tag read by {@link next}. */
  field = 0;
  wire = 0;

  /** Reads the next tag; false at the end. (No tuple per field: this runs for every field of every record.) */
  next(): boolean {
    if (this.pos >= this.end) return false;
    const t = this.varint();
    this.field = t >>> 3;
    this.wire = t & 7;
    return true;
  }
}

/** Hex of an id; '' when empty; ItemError when the length is wrong or (when required) all zero. */
function id(r: Reader, bytes: number, field: string, optional: boolean): string {
  const [s, e] = r.len();
  if (e === s) {
    if (optional) return '';
    throw new ItemError(`${field} is missing or all zero`);
  }
  if (e - s !== bytes) throw new ItemError(`${field} must be ${bytes} bytes, got ${e - s}`);
  const hex = r.buf.toString('hex', s, e);
  if (/^0+$/.test(hex)) {
    if (optional) return '';
    throw new ItemError(`${field} is missing or all zero`);
  }
  return hex;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);

function anyValue(r: Reader): AttrValue {
  let value: AttrValue = null;
  while (r.next()) {
    const field = r.field;
    const wire = r.wire;
    if (field === 1 && wire === WIRE_LEN) value = r.string();
    else if (field === 2 && wire === WIRE_VARINT) value = r.varint() !== 0;
    else if (field === 3 && wire === WIRE_VARINT) {
      const n = r.varint64();
      value = n >= MIN_SAFE && n <= MAX_SAFE ? Number(n) : n.toString();
    } else if (field === 4 && wire === WIRE_FIXED64) value = r.double();
    else if (field === 5 && wire === WIRE_LEN) {
      const arr = r.sub();
      const out: AttrValue[] = [];
      while (arr.next()) {
        const f = arr.field;
        const w = arr.wire;
        if (f === 1 && w === WIRE_LEN) out.push(anyValue(arr.sub()));
        else arr.skip(w);
      }
      value = out;
    } else if (field === 6 && wire === WIRE_LEN) value = keyValues(r.sub(), 1);
    else if (field === 7 && wire === WIRE_LEN) {
      const [s, e] = r.len();
      value = r.buf.toString('base64', s, e);
    } else r.skip(wire);
  }
  return value;
}

function keyValue(r: Reader, into: Attributes): void {
  let key = '';
  let value: AttrValue = null;
  while (r.next()) {
    const field = r.field;
    const wire = r.wire;
    if (field === 1 && wire === WIRE_LEN) key = r.string();
    else if (field === 2 && wire === WIRE_LEN) value = anyValue(r.sub());
    else r.skip(wire);
  }
  into[key] = value;
}

/** A message's repeated KeyValue field `field` as attributes. */
function keyValues(r: Reader, field: number, into: Attributes = {}): Attributes {
  while (r.next()) {
    const f = r.field;
    const w = r.wire;
    if (f === field && w === WIRE_LEN) keyValue(r.sub(), into);
    else r.skip(w);
  }
  return into;
}

function resource(r: Reader): ResourceInfo {
  return resourceFromAttributes(keyValues(r, 1));
}

function scope(r: Reader): ScopeInfo {
  const s: ScopeInfo = { name: '', version: '' };
  while (r.next()) {
    const field = r.field;
    const wire = r.wire;
    if (field === 1 && wire === WIRE_LEN) s.name = r.string();
    else if (field === 2 && wire === WIRE_LEN) s.version = r.string();
    else r.skip(wire);
  }
  return s;
}

function bodyText(v: AttrValue): string {
  if (v === null) return '';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/**
 * Walks resource → scope → items of an export request: `itemField` of the scope message holds the
 * items; each is decoded by `item`, and an ItemError rejects that item alone.
 */
function walk(buf: Buffer, signal: string, itemField: number, item: (r: Reader, res: ResourceInfo, sc: ScopeInfo) => void, out: DecodedRequest): void {
  const top = new Reader(buf, 0, buf.length, signal);
  while (top.next()) {
    const field = top.field;
    const wire = top.wire;
    if (field !== 1 || wire !== WIRE_LEN) {
      top.skip(wire);
      continue;
    }
    // Resource and scope may come after the items on the wire: collect item bounds first.
    const rr = top.sub();
    let res: ResourceInfo = resourceFromAttributes({});
    const scopes: Reader[] = [];
    while (rr.next()) {
      const f = rr.field;
      const w = rr.wire;
      if (f === 1 && w === WIRE_LEN) res = resource(rr.sub());
      else if (f === 2 && w === WIRE_LEN) scopes.push(rr.sub());
      else rr.skip(w);
    }
    for (const sr of scopes) {
      let sc: ScopeInfo = { name: '', version: '' };
      const items: [number, number][] = [];
      while (sr.next()) {
        const f = sr.field;
        const w = sr.wire;
        if (f === 1 && w === WIRE_LEN) sc = scope(sr.sub());
        else if (f === itemField && w === WIRE_LEN) items.push(sr.len());
        else sr.skip(w);
      }
      for (const [s, e] of items) {
        try {
          item(new Reader(buf, s, e, signal), res, sc);
        } catch (err) {
          if (!(err instanceof ItemError)) throw err;
          out.rejected++;
          if (out.errors.length < 5) out.errors.push(err.message);
        }
      }
    }
  }
}

/** Decodes an ExportLogsServiceRequest in protobuf. */
export function decodeLogsWire(body: Uint8Array): DecodedRequest {
  const buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const out: DecodedRequest = { batch: { logs: [], spans: [], metrics: [] }, rejected: 0, errors: [] };
  const nowNs = BigInt(Date.now()) * 1_000_000n;
  const rows = out.batch.logs;
  walk(
    buf,
    'logs',
    2,
    (r, res, sc) => {
      let time = 0n;
      let observed = 0n;
      let severityNumber = 0;
      let severityText = '';
      let body: AttrValue = null;
      let attributes: Attributes = {};
      let flags = 0;
      let traceId = '';
      let spanId = '';
      let eventName = '';
      while (r.next()) {
        const field = r.field;
        const wire = r.wire;
        if (field === 1 && wire === WIRE_FIXED64) time = r.fixed64();
        else if (field === 11 && wire === WIRE_FIXED64) observed = r.fixed64();
        else if (field === 2 && wire === WIRE_VARINT) severityNumber = r.varint();
        else if (field === 3 && wire === WIRE_LEN) severityText = r.string();
        else if (field === 5 && wire === WIRE_LEN) body = anyValue(r.sub());
        else if (field === 6 && wire === WIRE_LEN) keyValue(r.sub(), attributes);
        else if (field === 8 && wire === WIRE_FIXED32) flags = r.fixed32();
        else if (field === 9 && wire === WIRE_LEN) traceId = id(r, 16, 'traceId', true);
        else if (field === 10 && wire === WIRE_LEN) spanId = id(r, 8, 'spanId', true);
        else if (field === 12 && wire === WIRE_LEN) eventName = r.string();
        else r.skip(wire);
      }
      if (eventName) attributes = { ...attributes, 'event.name': eventName };
      rows.push({
        timeNs: time || observed || nowNs,
        observedTimeNs: observed || nowNs,
        traceId,
        spanId,
        traceFlags: flags & 0xff,
        severityNumber,
        severityText,
        body: bodyText(body),
        resource: res,
        scope: sc,
        attributes,
      } satisfies LogRow);
    },
    out,
  );
  return out;
}

function event(r: Reader): SpanEvent {
  const e: SpanEvent = { timeNs: 0n, name: '', attributes: {} };
  while (r.next()) {
    const field = r.field;
    const wire = r.wire;
    if (field === 1 && wire === WIRE_FIXED64) e.timeNs = r.fixed64();
    else if (field === 2 && wire === WIRE_LEN) e.name = r.string();
    else if (field === 3 && wire === WIRE_LEN) keyValue(r.sub(), e.attributes);
    else r.skip(wire);
  }
  return e;
}

function link(r: Reader): SpanLink {
  const l: SpanLink = { traceId: '', spanId: '', traceState: '', attributes: {} };
  let sawTrace = false;
  let sawSpan = false;
  while (r.next()) {
    const field = r.field;
    const wire = r.wire;
    if (field === 1 && wire === WIRE_LEN) {
      l.traceId = id(r, 16, 'link.traceId', false);
      sawTrace = true;
    } else if (field === 2 && wire === WIRE_LEN) {
      l.spanId = id(r, 8, 'link.spanId', false);
      sawSpan = true;
    } else if (field === 3 && wire === WIRE_LEN) l.traceState = r.string();
    else if (field === 4 && wire === WIRE_LEN) keyValue(r.sub(), l.attributes);
    else r.skip(wire);
  }
  if (!sawTrace) throw new ItemError('link.traceId is missing or all zero');
  if (!sawSpan) throw new ItemError('link.spanId is missing or all zero');
  return l;
}

/** Decodes an ExportTraceServiceRequest in protobuf. */
export function decodeTracesWire(body: Uint8Array): DecodedRequest {
  const buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const out: DecodedRequest = { batch: { logs: [], spans: [], metrics: [] }, rejected: 0, errors: [] };
  const rows = out.batch.spans;
  walk(
    buf,
    'traces',
    2,
    (r, res, sc) => {
      let traceId: string | undefined;
      let spanId: string | undefined;
      let parentSpanId = '';
      let traceState = '';
      let name = '';
      let kind = 0;
      let start = 0n;
      let end = 0n;
      const attributes: Attributes = {};
      const events: SpanEvent[] = [];
      const links: SpanLink[] = [];
      let statusCode = 0;
      let statusMessage = '';
      while (r.next()) {
        const field = r.field;
        const wire = r.wire;
        if (field === 1 && wire === WIRE_LEN) traceId = id(r, 16, 'traceId', false);
        else if (field === 2 && wire === WIRE_LEN) spanId = id(r, 8, 'spanId', false);
        else if (field === 3 && wire === WIRE_LEN) traceState = r.string();
        else if (field === 4 && wire === WIRE_LEN) parentSpanId = id(r, 8, 'parentSpanId', true);
        else if (field === 5 && wire === WIRE_LEN) name = r.string();
        else if (field === 6 && wire === WIRE_VARINT) kind = r.varint();
        else if (field === 7 && wire === WIRE_FIXED64) start = r.fixed64();
        else if (field === 8 && wire === WIRE_FIXED64) end = r.fixed64();
        else if (field === 9 && wire === WIRE_LEN) keyValue(r.sub(), attributes);
        else if (field === 11 && wire === WIRE_LEN) events.push(event(r.sub()));
        else if (field === 13 && wire === WIRE_LEN) links.push(link(r.sub()));
        else if (field === 15 && wire === WIRE_LEN) {
          const st = r.sub();
          while (st.next()) {
            const f = st.field;
            const w = st.wire;
            if (f === 2 && w === WIRE_LEN) statusMessage = st.string();
            else if (f === 3 && w === WIRE_VARINT) statusCode = st.varint();
            else st.skip(w);
          }
        } else r.skip(wire);
      }
      // The generic decoder checks in this order; keep the same first error.
      if (start === 0n) throw new ItemError('span without startTimeUnixNano');
      if (traceId === undefined) throw new ItemError('traceId is missing or all zero');
      if (spanId === undefined) throw new ItemError('spanId is missing or all zero');
      rows.push({
        startTimeNs: start,
        durationNs: end > start ? end - start : 0n,
        traceId,
        spanId,
        parentSpanId,
        traceState,
        name,
        kind: SPAN_KINDS[kind] ?? 'Unspecified',
        statusCode: STATUS_CODES[statusCode] ?? 'Unset',
        statusMessage,
        resource: res,
        scope: sc,
        attributes,
        events,
        links,
      } satisfies SpanRow);
    },
    out,
  );
  return out;
}
