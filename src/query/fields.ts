/**
 * Field catalogue: which user field names map to promoted columns of each dataset, and how any
 * other name reads a JSON attribute (record attributes first, then resource attributes).
 */
import type { Dataset } from './ast.ts';
import { SPAN_KINDS, STATUS_CODES } from '../model/telemetry.ts';
import type { PlanExpr, ValueType } from './plan.ts';

/** How a known field reads, and what its values are. */
export interface FieldDef {
  expr: PlanExpr;
  type: ValueType;
  /** `severity` compares by OTel severity-number ranges; `enum` values are normalised to `values`. */
  special?: 'severity' | 'enum';
  values?: readonly string[];
}

/** Everything the planner needs to know about one dataset. */
export interface DatasetDef {
  dataset: Dataset;
  fields: Readonly<Record<string, FieldDef>>;
  /** JSON columns searched for attributes, in priority order. */
  attributeSources: readonly string[];
  /** Column searched by free text. */
  text: PlanExpr;
  timestamp: PlanExpr;
  /** Columns of a raw event listing: output name → field name. */
  rawColumns: readonly (readonly [string, string])[];
}

const col = (column: string): PlanExpr => ({ kind: 'column', column });

/** OTel severity ranges: each level spans four numbers (ERROR = 17..20). */
export const SEVERITY_LEVELS = [
  { name: 'TRACE', min: 1, max: 4 },
  { name: 'DEBUG', min: 5, max: 8 },
  { name: 'INFO', min: 9, max: 12 },
  { name: 'WARN', min: 13, max: 16 },
  { name: 'ERROR', min: 17, max: 20 },
  { name: 'FATAL', min: 21, max: 24 },
] as const;

const SEVERITY_ALIASES: Record<string, string> = { WARNING: 'WARN', ERR: 'ERROR', CRITICAL: 'FATAL', CRIT: 'FATAL', INFORMATION: 'INFO', DBG: 'DEBUG' };

/**
 * Reads a severity given as a name (`error`, `WARN`, `ERROR2`) or a number (`17`) and returns the
 * inclusive range of severity numbers it stands for, or null when it is neither.
 */
export function severityRange(text: string): { min: number; max: number } | null {
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    return n >= 0 && n <= 24 ? { min: n, max: n } : null;
  }
  const m = /^([A-Za-z]+?)([1-4])?$/.exec(text.trim());
  if (!m) return null;
  const upper = m[1]!.toUpperCase();
  const name = SEVERITY_ALIASES[upper] ?? upper;
  const level = SEVERITY_LEVELS.find((l) => l.name === name);
  if (!level) return null;
  if (m[2]) {
    const n = level.min + Number(m[2]) - 1;
    return { min: n, max: n };
  }
  return { min: level.min, max: level.max };
}

/** The severity level name of a log record, derived from its number so `ERROR2` groups under ERROR. */
const SEVERITY_NAME: PlanExpr = {
  kind: 'case',
  whens: SEVERITY_LEVELS.map((l) => ({
    when: {
      kind: 'logic',
      op: 'and',
      args: [
        { kind: 'compare', op: '>=', left: col('SeverityNumber'), right: { kind: 'const', value: l.min } },
        { kind: 'compare', op: '<=', left: col('SeverityNumber'), right: { kind: 'const', value: l.max } },
      ],
    },
    then: { kind: 'const', value: l.name },
  })),
  else: col('SeverityText'),
};

const COMMON: Record<string, FieldDef> = {
  timestamp: { expr: col('Timestamp'), type: 'time' },
  _time: { expr: col('Timestamp'), type: 'time' },
  'service.name': { expr: col('ServiceName'), type: 'string' },
  service: { expr: col('ServiceName'), type: 'string' },
  'service.namespace': { expr: col('ServiceNamespace'), type: 'string' },
  'service.version': { expr: col('ServiceVersion'), type: 'string' },
  'host.name': { expr: col('HostName'), type: 'string' },
  host: { expr: col('HostName'), type: 'string' },
  trace_id: { expr: col('TraceId'), type: 'string' },
  span_id: { expr: col('SpanId'), type: 'string' },
  'scope.name': { expr: col('ScopeName'), type: 'string' },
  'scope.version': { expr: col('ScopeVersion'), type: 'string' },
  resource_attributes: { expr: col('ResourceAttributes'), type: 'json' },
};

/**
 * Splunk's `index`: HEC stores it as the `splunk.index` attribute, and records sent without one are
 * in `main`, as in Splunk, so a Splunk user's first `index=main …` finds what was sent.
 */
const splunkIndex = (source: string): FieldDef => ({
  expr: { kind: 'call', fn: 'coalesce', args: [{ kind: 'attribute', key: 'splunk.index', sources: [source] }, { kind: 'const', value: 'main' }] },
  type: 'string',
});

const LOGS: DatasetDef = {
  dataset: 'logs',
  fields: {
    ...COMMON,
    index: splunkIndex('LogAttributes'),
    sourcetype: { expr: { kind: 'attribute', key: 'splunk.sourcetype', sources: ['LogAttributes'] }, type: 'string' },
    attributes: { expr: col('LogAttributes'), type: 'json' },
    observed_timestamp: { expr: col('ObservedTimestamp'), type: 'time' },
    severity: { expr: SEVERITY_NAME, type: 'string', special: 'severity' },
    level: { expr: SEVERITY_NAME, type: 'string', special: 'severity' },
    severity_text: { expr: col('SeverityText'), type: 'string' },
    severity_number: { expr: col('SeverityNumber'), type: 'number' },
    body: { expr: col('Body'), type: 'string' },
    _raw: { expr: col('Body'), type: 'string' },
    message: { expr: col('Body'), type: 'string' },
    trace_flags: { expr: col('TraceFlags'), type: 'number' },
  },
  attributeSources: ['LogAttributes', 'ResourceAttributes'],
  text: col('Body'),
  timestamp: col('Timestamp'),
  rawColumns: [
    ['timestamp', 'timestamp'],
    ['service.name', 'service.name'],
    ['host.name', 'host.name'],
    ['severity', 'severity'],
    ['severity_number', 'severity_number'],
    ['body', 'body'],
    ['trace_id', 'trace_id'],
    ['span_id', 'span_id'],
    ['attributes', 'attributes'],
    ['resource_attributes', 'resource_attributes'],
  ],
};

const DURATION_MS: PlanExpr = { kind: 'arith', op: '/', left: col('Duration'), right: { kind: 'const', value: 1e6 } };

const SPANS: DatasetDef = {
  dataset: 'spans',
  fields: {
    ...COMMON,
    index: splunkIndex('SpanAttributes'),
    attributes: { expr: col('SpanAttributes'), type: 'json' },
    parent_span_id: { expr: col('ParentSpanId'), type: 'string' },
    trace_state: { expr: col('TraceState'), type: 'string' },
    name: { expr: col('SpanName'), type: 'string' },
    'span.name': { expr: col('SpanName'), type: 'string' },
    kind: { expr: col('SpanKind'), type: 'string', special: 'enum', values: SPAN_KINDS },
    'span.kind': { expr: col('SpanKind'), type: 'string', special: 'enum', values: SPAN_KINDS },
    status: { expr: col('StatusCode'), type: 'string', special: 'enum', values: STATUS_CODES },
    'status.code': { expr: col('StatusCode'), type: 'string', special: 'enum', values: STATUS_CODES },
    status_code: { expr: col('StatusCode'), type: 'string', special: 'enum', values: STATUS_CODES },
    'status.message': { expr: col('StatusMessage'), type: 'string' },
    status_message: { expr: col('StatusMessage'), type: 'string' },
    duration_ms: { expr: DURATION_MS, type: 'number' },
    duration_ns: { expr: col('Duration'), type: 'number' },
    'http.route': { expr: col('HttpRoute'), type: 'string' },
    'http.request.method': { expr: col('HttpMethod'), type: 'string' },
    'http.method': { expr: col('HttpMethod'), type: 'string' },
    'http.response.status_code': { expr: col('HttpStatusCode'), type: 'number' },
    'http.status_code': { expr: col('HttpStatusCode'), type: 'number' },
    'db.system': { expr: col('DbSystem'), type: 'string' },
    'db.system.name': { expr: col('DbSystem'), type: 'string' },
    'db.statement': { expr: col('DbStatement'), type: 'string' },
    'db.query.text': { expr: col('DbStatement'), type: 'string' },
  },
  attributeSources: ['SpanAttributes', 'ResourceAttributes'],
  text: col('SpanName'),
  timestamp: col('Timestamp'),
  rawColumns: [
    ['timestamp', 'timestamp'],
    ['trace_id', 'trace_id'],
    ['span_id', 'span_id'],
    ['parent_span_id', 'parent_span_id'],
    ['service.name', 'service.name'],
    ['name', 'name'],
    ['kind', 'kind'],
    ['duration_ms', 'duration_ms'],
    ['status', 'status'],
    ['status.message', 'status.message'],
    ['http.request.method', 'http.request.method'],
    ['http.route', 'http.route'],
    ['http.response.status_code', 'http.response.status_code'],
    ['attributes', 'attributes'],
    ['resource_attributes', 'resource_attributes'],
  ],
};

/** The catalogue of a dataset. */
export function datasetDef(dataset: Dataset): DatasetDef {
  return dataset === 'logs' ? LOGS : SPANS;
}

/**
 * Attribute keys allowed in queries. Dots, dashes, colons, slashes and @ cover OTel and HEC names;
 * quotes, backslashes and spaces are refused so a key can never break out of a JSON path.
 */
export const ATTRIBUTE_KEY = /^[A-Za-z0-9_@][A-Za-z0-9_.\-:@/]{0,254}$/;

/** Canonical spelling of an enum value (`server`, `SPAN_KIND_SERVER` → `Server`), or null if unknown. */
export function normaliseEnum(text: string, values: readonly string[]): string | null {
  const t = text.toLowerCase().replace(/^(span_kind_|status_code_)/, '');
  return values.find((v) => v.toLowerCase() === t) ?? null;
}

/** Edit distance with adjacent transpositions (optimal string alignment), for "did you mean". */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** What Vigil knows about a name that is not a field of the dataset (so it reads as an attribute). */
export interface FieldHint {
  /** Fields of this dataset the name is probably a misspelling of, closest first (at most 3). */
  similar: string[];
  /** Whether the name is a field of the other dataset (`status` on logs, `body` on spans). */
  otherDataset: Dataset | null;
}

/**
 * Finds likely meant fields for an unknown name: edit distance ≤ 2 (case-insensitive), or the name
 * is a whole part of a field's name (`duration` → `duration_ms`, `route` → `http.route`).
 */
export function fieldHint(name: string, dataset: Dataset): FieldHint {
  const lower = name.toLowerCase();
  const scored: [string, number][] = [];
  for (const known of Object.keys(datasetDef(dataset).fields)) {
    const k = known.toLowerCase();
    if (k === lower) continue;
    const parts = k.split(/[._]/);
    const d = parts.includes(lower) || k.startsWith(`${lower}_`) ? 1.5 : editDistance(lower, k);
    // Short names are too easily "close" to anything; only whole-part matches count for them.
    if (d <= 2 && (lower.length > 3 || d === 1.5)) scored.push([known, d]);
  }
  scored.sort((a, b) => a[1] - b[1] || a[0].length - b[0].length || a[0].localeCompare(b[0]));
  const other: Dataset = dataset === 'logs' ? 'spans' : 'logs';
  return { similar: scored.slice(0, 3).map(([n]) => n), otherDataset: name in datasetDef(other).fields ? other : null };
}
