/**
 * The state store's two engines for conformance suites: a fresh SQLite file and a fresh PostgreSQL
 * schema, each removed by `close()`. (Not helpers/vigil.ts's tempDir: that module loads the whole
 * server, which a repository test does not need.)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStateDb, type StateDb } from '../../src/store/state/db.ts';
import { freshPostgresSchema } from './postgres.ts';

/** One engine of the state store. */
export interface StateBackend {
  name: string;
  open(): Promise<{ db: StateDb; close(): Promise<void> }>;
}

/** SQLite and PostgreSQL, for `describe.each(STATE_BACKENDS)`. */
export const STATE_BACKENDS: StateBackend[] = [
  {
    name: 'sqlite',
    async open() {
      const dir = mkdtempSync(join(tmpdir(), 'vigil-state-'));
      const db = await openStateDb(join(dir, 'state.sqlite'));
      return { db, close: async () => (await db.destroy(), rmSync(dir, { recursive: true, force: true })) };
    },
  },
  {
    name: 'postgres',
    async open() {
      const schema = await freshPostgresSchema();
      const db = await openStateDb(schema.url);
      return { db, close: async () => (await db.destroy(), await schema.drop()) };
    },
  },
];
