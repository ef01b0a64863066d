/**
 * The ingest-time statement normaliser (JS) and the query-time one (SQL, for rows stored before the
 * column existed) must agree, or the database view would split one statement into two groups.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { normalizeStatement } from '../../model/db-statement.ts';
import { duckdbViewSql } from '../dialect/duckdb.ts';
import { normalizeStatementSql } from './apm.ts';

const STATEMENTS = [
  'SELECT * FROM works WHERE id = 42',
  "SELECT * FROM rights_holders WHERE name = 'O''Brien' AND region = 'EU'",
  'SELECT sum(units) FROM usage_records WHERE period = $1 AND work_id IN (1, 2, 3,4)',
  'INSERT INTO payments (holder, amount) VALUES (1, 12.5), (2, 3e-2),\n  (3, 7)',
  'UPDATE courses SET seats = seats - 1 WHERE id = 9   AND  seats > 0',
  'select x from t where a in (?, ?) and b = 1.25E+3',
  'SELECT col2 FROM t1 WHERE v = -5',
  'PING',
  '',
];

describe('statement normalisation', () => {
  it('gives the same text at ingest (JS) and at query time (SQL)', async () => {
    const instance = await DuckDBInstance.create(':memory:');
    const c = await instance.connect();
    for (const s of STATEMENTS) {
      const rows = (await c.runAndReadAll(`SELECT ${normalizeStatementSql(duckdbViewSql, '$1')} AS n`, [s])).getRowObjects();
      expect(normalizeStatement(s), s).toBe(rows[0]!.n);
    }
    c.closeSync();
    instance.closeSync();
  });

  it('turns literals into ? and collapses lists', () => {
    expect(normalizeStatement("SELECT * FROM t WHERE a = 'x' AND b IN (1, 2, 3)")).toBe('SELECT * FROM t WHERE a = ? AND b IN (?)');
    expect(normalizeStatement('INSERT INTO t VALUES (1, 2), (3, 4)')).toBe('INSERT INTO t VALUES (?, ?)');
  });
});
