/**
 * Normalised telemetry rows: what receivers produce and the telemetry store keeps.
 * Field names follow the OpenTelemetry Collector's ClickHouse exporter so that one day a ClickHouse
 * filled by a collector reads the same. Times are Unix nanoseconds as bigint (exact), durations ns.
 */

/** Attribute values as they arrive from OTLP AnyValue or HEC fields, JSON-serialisable. */
export type AttrValue = string | number | boolean | null | AttrValue[] | { [key: string]: AttrValue };
/** A flat attribute map (keys keep their dots: `http.route`). */
export type Attributes = Record<string, AttrValue>;

/** Resource identity shared by every record of one resource, with hot attributes promoted. */
export interface ResourceInfo {
  serviceName: string;
  serviceNamespace: string;
  serviceVersion: string;
  hostName: string;
  attributes: Attributes;
}

/** Instrumentation scope of a record. */
export interface ScopeInfo {
  name: string;
  version: string;
}

/** One log record (OTLP LogRecord or a Splunk HEC event). */
export interface LogRow {
  timeNs: bigint;
  observedTimeNs: bigint;
  traceId: string;
  spanId: string;
  traceFlags: number;
  severityText: string;
  severityNumber: number;
  body: string;
  resource: ResourceInfo;
  scope: ScopeInfo;
  attributes: Attributes;
}

/** A span event (exceptions are events named `exception`). */
export interface SpanEvent {
  timeNs: bigint;
  name: string;
  attributes: Attributes;
}

/** A link from one span to another. */
export interface SpanLink {
  traceId: string;
  spanId: string;
  traceState: string;
  attributes: Attributes;
}

/** Span kinds as the ClickHouse exporter names them. */
export const SPAN_KINDS = ['Unspecified', 'Internal', 'Server', 'Client', 'Producer', 'Consumer'] as const;
export type SpanKind = (typeof SPAN_KINDS)[number];
/** Span status codes as the ClickHouse exporter names them. */
export const STATUS_CODES = ['Unset', 'Ok', 'Error'] as const;
export type StatusCode = (typeof STATUS_CODES)[number];

/** One span. */
export interface SpanRow {
  startTimeNs: bigint;
  durationNs: bigint;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  traceState: string;
  name: string;
  kind: SpanKind;
  statusCode: StatusCode;
  statusMessage: string;
  resource: ResourceInfo;
  scope: ScopeInfo;
  attributes: Attributes;
  events: SpanEvent[];
  links: SpanLink[];
  /** Hot attributes as columns, set by the ingest pipeline's promotion step (absent: all null). */
  promoted?: PromotedSpanFields;
}

/**
 * A span's hot attributes promoted to columns so that filters and group-bys never parse the attribute
 * map. Derived once at ingest (`src/ingest/promote.ts`), so every store receives finished rows.
 */
export interface PromotedSpanFields {
  httpMethod: string | null;
  httpRoute: string | null;
  httpStatusCode: number | null;
  dbSystem: string | null;
  dbStatement: string | null;
  /** The statement with literals replaced by `?`, for grouping (see `db-statement.ts`). */
  dbStatementNormalized: string | null;
}

/** Metric point kinds; exponential histograms are converted to explicit-bucket histograms. */
export type MetricKind = 'gauge' | 'sum' | 'histogram';

/** OTLP aggregation temporality. */
export type Temporality = 'unspecified' | 'delta' | 'cumulative';

/** One metric data point. */
export interface MetricRow {
  kind: MetricKind;
  name: string;
  description: string;
  unit: string;
  startTimeNs: bigint;
  timeNs: bigint;
  resource: ResourceInfo;
  scope: ScopeInfo;
  attributes: Attributes;
  flags: number;
  /** gauge and sum */
  value: number;
  /** sum only */
  temporality: Temporality;
  isMonotonic: boolean;
  /** histogram only */
  count: number;
  sum: number | null;
  min: number | null;
  max: number | null;
  bucketCounts: number[];
  explicitBounds: number[];
}

/** A batch of rows of every signal, as one request produces. */
export interface TelemetryBatch {
  logs: LogRow[];
  spans: SpanRow[];
  metrics: MetricRow[];
}

/** The signals Vigil stores. */
export const SIGNALS = ['logs', 'traces', 'metrics'] as const;
export type Signal = (typeof SIGNALS)[number];

/** Number of rows in a batch. */
export function batchSize(b: TelemetryBatch): number {
  return b.logs.length + b.spans.length + b.metrics.length;
}
