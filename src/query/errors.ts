/**
 * Errors of the query language. Every error names a 0-based character offset into the query text
 * so an editor can underline it, and says what was expected there.
 */

/** A query that cannot be lexed, parsed or planned; `position` is a 0-based offset into the query text. */
export class QueryError extends Error {
  /** 0-based character offset of the offending token. */
  readonly position: number;
  /** The message without the ` at position N` suffix, for UIs that show the position themselves. */
  readonly detail: string;

  constructor(detail: string, position: number) {
    super(`${detail} at position ${position}`);
    this.name = 'QueryError';
    this.detail = detail;
    this.position = position;
  }
}
