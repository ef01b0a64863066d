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

/**
 * A well-formed query that Vigil refuses to run as asked: it would compile to too much SQL, or the
 * engine rejected it on the data (square root of a negative number, overflow). Answered with 400.
 */
export class QueryRejectedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'QueryRejectedError';
  }
}

/** The engine ran out of its memory budget on this query; retrying a narrower query helps (503). */
export class QueryResourceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'QueryResourceError';
  }
}

/** Something worth telling the user about a query that ran: an unknown field, a widened span. */
export interface QueryWarning {
  message: string;
  /** 0-based offset into the query text of what the warning is about, when there is one. */
  position?: number;
}
