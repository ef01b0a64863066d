/**
 * Splunk HTTP Event Collector payloads → log rows. `/event` bodies are one or more JSON objects
 * written back to back; `/raw` bodies are text, one event per line. As in Splunk, the events before
 * an invalid one are kept and the reply names the invalid event's number.
 */
import type { Attributes, AttrValue, LogRow, ResourceInfo } from '../../model/telemetry.ts';
import { resourceFromAttributes } from '../otlp/decode.ts';

/** Event metadata given as query parameters (raw endpoint) or event keys. */
export interface HecMeta {
  host?: string;
  source?: string;
  sourcetype?: string;
  index?: string;
}

/** Splunk's reply codes for bad events. */
export type HecEventError = { code: 6 | 12 | 13; text: string; eventNumber: number };

/** Result of decoding a HEC body: the valid events before the first invalid one, and that error. */
export interface HecDecoded {
  rows: LogRow[];
  error?: HecEventError;
}

// OTel severity numbers of the usual level names (https://opentelemetry.io/docs/specs/otel/logs/data-model/).
const SEVERITY: Record<string, number> = {
  TRACE: 1, DEBUG: 5, INFO: 9, INFORMATION: 9, NOTICE: 10, WARN: 13, WARNING: 13, ERROR: 17, ERR: 17, CRITICAL: 21, CRIT: 21, FATAL: 21, ALERT: 22, EMERGENCY: 23, EMERG: 23,
};

/** Maps a level name (any case) to an OTel severity number; 0 when unknown. */
export function severityFromText(text: string): number {
  return SEVERITY[text.trim().toUpperCase()] ?? 0;
}

const LEVEL_IN_LINE = /\b(TRACE|DEBUG|INFO|WARN|WARNING|ERROR|CRITICAL|FATAL)\b/;

/**
 * Splits back-to-back JSON objects by tracking string and nesting state; yields each object's text.
 * A stray non-object character produces an `undefined` element so the caller can report its number.
 */
export function splitConcatenatedJson(text: string): (string | undefined)[] {
  const out: (string | undefined)[] = [];
  let depth = 0;
  let inString = false;
  let escaped = false;
  let start = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (escaped) escaped = false;
      else if (c === 92 /* \ */) escaped = true;
      else if (c === 34 /* " */) inString = false;
      continue;
    }
    if (depth === 0) {
      if (c === 32 || c === 10 || c === 13 || c === 9) continue;
      if (c !== 123 /* { */) {
        out.push(undefined);
        return out;
      }
      start = i;
      depth = 1;
      continue;
    }
    if (c === 34) inString = true;
    else if (c === 123 || c === 91) depth++;
    else if (c === 125 || c === 93) {
      depth--;
      if (depth === 0) out.push(text.slice(start, i + 1));
    }
  }
  if (depth !== 0) out.push(undefined);
  return out;
}

function nowNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

/** Splunk `time`: epoch seconds with optional fraction, as number or string. */
function timeNs(v: unknown): bigint | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
  if (!Number.isFinite(n) || n < 0) return undefined;
  // Epoch seconds; millisecond values (13 digits) are a common client mistake, accept them too.
  const seconds = n > 1e11 ? n / 1000 : n;
  const whole = Math.floor(seconds);
  return BigInt(whole) * 1_000_000_000n + BigInt(Math.round((seconds - whole) * 1e9));
}

const resources = new Map<string, ResourceInfo>();

/** One resource per (service, host) so a batch shares its serialised attributes. */
function resourceFor(service: string, host: string): ResourceInfo {
  const key = `${service}\u0000${host}`;
  let r = resources.get(key);
  if (!r) {
    const attributes: Attributes = { 'service.name': service };
    if (host) attributes['host.name'] = host;
    r = resourceFromAttributes(attributes);
    if (resources.size > 10_000) resources.clear();
    resources.set(key, r);
  }
  return r;
}

function text(v: unknown): string {
  return typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v);
}

// JSON.parse output is already a valid attribute value; nested objects stay nested so that redaction
// sees every key (flattening them to text first would hide `{"password": …}` inside a string).
function toAttr(v: unknown): AttrValue {
  return v === undefined ? null : (v as AttrValue);
}

const MAX_FLAT_KEYS = 256;
const MAX_FLAT_DEPTH = 8;

/** Flattens an object into dotted keys (`message.payout.id`), as Splunk's JSON field extraction names them. */
export function flatten(prefix: string, value: Record<string, unknown>, out: Record<string, unknown>, depth = 0): void {
  for (const [k, v] of Object.entries(value)) {
    if (Object.keys(out).length >= MAX_FLAT_KEYS) return;
    const key = prefix ? `${prefix}.${k}` : k;
    if (isObj(v) && depth < MAX_FLAT_DEPTH) flatten(key, v, out, depth + 1);
    else out[key] = v;
  }
}

function makeRow(body: string, meta: HecMeta, fields: Record<string, unknown>, time: bigint | undefined, severityHint: string): LogRow {
  const attributes: Attributes = {};
  for (const [k, v] of Object.entries(fields)) attributes[k] = toAttr(v);
  if (meta.source) attributes['splunk.source'] = meta.source;
  if (meta.sourcetype) attributes['splunk.sourcetype'] = meta.sourcetype;
  if (meta.index) attributes['splunk.index'] = meta.index;
  const service = text(fields['service.name'] ?? fields.service) || meta.source || meta.sourcetype || 'splunk-hec';
  const severityText = severityHint || (LEVEL_IN_LINE.exec(body)?.[1] ?? '');
  const observed = nowNs();
  return {
    timeNs: time ?? observed,
    observedTimeNs: observed,
    traceId: /^[0-9a-f]{32}$/.test(text(fields.trace_id)) ? text(fields.trace_id) : '',
    spanId: /^[0-9a-f]{16}$/.test(text(fields.span_id)) ? text(fields.span_id) : '',
    traceFlags: 0,
    severityText,
    severityNumber: severityFromText(severityText),
    body,
    resource: resourceFor(service, meta.host ?? ''),
    scope: { name: 'splunk-hec', version: '' },
    attributes,
  };
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Decodes a `/services/collector/event` body. */
export function decodeHecEvents(body: string, defaults: HecMeta): HecDecoded {
  const rows: LogRow[] = [];
  const parts = splitConcatenatedJson(body);
  for (let n = 0; n < parts.length; n++) {
    const part = parts[n];
    let ev: unknown;
    try {
      ev = part === undefined ? undefined : JSON.parse(part);
    } catch {
      ev = undefined;
    }
    if (!isObj(ev)) return { rows, error: { code: 6, text: 'Invalid data format', eventNumber: n } };
    if (!('event' in ev)) return { rows, error: { code: 12, text: 'Event field is required', eventNumber: n } };
    const event = ev.event;
    if (event === null || event === '' || (isObj(event) && Object.keys(event).length === 0)) {
      return { rows, error: { code: 13, text: 'Event field cannot be blank', eventNumber: n } };
    }
    const fields = isObj(ev.fields) ? ev.fields : {};
    const meta: HecMeta = {
      host: text(ev.host) || defaults.host,
      source: text(ev.source) || defaults.source,
      sourcetype: text(ev.sourcetype) || defaults.sourcetype,
      index: text(ev.index) || defaults.index,
    };
    let bodyText: string;
    let severity = text(fields.severity ?? fields.level);
    if (isObj(event)) {
      // Structured events (splunk-logging sends {message, severity}): a string message is the body; an
      // object message is a structured body whose fields are searchable as message.<field>. The level
      // is the severity; the other keys are fields under their own names.
      const { message = event.msg, severity: eventSeverity = event.level, ...rest } = event;
      delete rest.msg;
      delete rest.level;
      severity ||= text(eventSeverity);
      const extracted: Record<string, unknown> = {};
      flatten('', rest, extracted);
      if (isObj(message)) flatten('message', message, extracted);
      bodyText = typeof message === 'string' ? message : JSON.stringify(message === undefined ? rest : message);
      rows.push(makeRow(bodyText, meta, { ...extracted, ...fields }, timeNs(ev.time), severity));
    } else {
      bodyText = typeof event === 'string' ? event : JSON.stringify(event);
      rows.push(makeRow(bodyText, meta, fields, timeNs(ev.time), severity));
    }
  }
  if (parts.length === 0) return { rows, error: { code: 6, text: 'Invalid data format', eventNumber: 0 } };
  return { rows };
}

/** Decodes a `/services/collector/raw` body: one event per non-empty line. */
export function decodeHecRaw(body: string, meta: HecMeta): LogRow[] {
  const rows: LogRow[] = [];
  for (const line of body.split(/\r?\n/)) {
    if (line.trim() === '') continue;
    rows.push(makeRow(line, meta, {}, undefined, ''));
  }
  return rows;
}
