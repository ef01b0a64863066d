/**
 * Normalised database statements: literals become `?`, so `SELECT * FROM works WHERE id = 42` and
 * `… id = 7` group together. Computed once per span at ingest (the store keeps it in
 * `DbStatementNormalized`), because normalising millions of stored statements with regular expressions
 * at query time took seconds. The same rules exist as SQL in the APM view for rows stored before this
 * column existed; a test keeps the two in step.
 */

const LITERALS = /'(?:[^']|'')*'|\$\d+|\b\d+(?:\.\d+)?(?:[eE][-+]?\d+)?\b/g;
const IN_LIST = /\bIN\s*\(\s*\?(?:\s*,\s*\?)*\s*\)/gi;
const VALUES_TUPLES = /(VALUES\s*\([^)]*\))(?:\s*,\s*\([^)]*\))+/gi;
const SPACES = /\s+/g;

/** Quoted strings, numbers and `$n` → `?`; `IN (?, ?)` → `IN (?)`; repeated VALUES tuples → one; one space. */
export function normalizeStatement(raw: string): string {
  return raw.replace(LITERALS, '?').replace(IN_LIST, 'IN (?)').replace(VALUES_TUPLES, '$1').replace(SPACES, ' ').trim();
}
