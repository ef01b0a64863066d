/**
 * The promotion step of the ingest pipeline: copies each span's hot attributes into
 * {@link PromotedSpanFields} — old and new semantic-convention names both count — and normalises its
 * database statement once. It runs after redaction, so the promoted copies are redacted too, and before
 * the store, so every store receives finished rows and none has to know the conventions.
 */
import { normalizeStatement } from '../model/db-statement.ts';
import type { AttrValue, PromotedSpanFields, SpanRow, TelemetryBatch } from '../model/telemetry.ts';

function str(v: AttrValue | undefined): string | null {
  return v === undefined || v === null ? null : typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
}

// INTEGER column: anything that is not a 32-bit whole number is no status code.
function int(v: AttrValue | undefined): number | null {
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
  return Number.isInteger(n) && Math.abs(n) < 2 ** 31 ? n : null;
}

/** The promoted fields of one span. */
export function promoteSpan(span: SpanRow): PromotedSpanFields {
  const a = span.attributes;
  const dbStatement = str(a['db.query.text'] ?? a['db.statement']);
  return {
    httpMethod: str(a['http.request.method'] ?? a['http.method']),
    httpRoute: str(a['http.route']),
    httpStatusCode: int(a['http.response.status_code'] ?? a['http.status_code']),
    dbSystem: str(a['db.system.name'] ?? a['db.system']),
    dbStatement,
    dbStatementNormalized: dbStatement ? normalizeStatement(dbStatement) : null,
  };
}

/** Pipeline processor: promotes every span of the batch in place. */
export function promoteBatch(batch: TelemetryBatch): void {
  for (const span of batch.spans) span.promoted = promoteSpan(span);
}
