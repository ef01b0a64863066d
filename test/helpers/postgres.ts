/**
 * A fresh PostgreSQL schema for one test file in the local database `test` (127.0.0.1:5432, user
 * postgres, trust auth, as in CI), so that test files running in parallel never see each other's tables.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The server tests use; VIGIL_TEST_POSTGRES overrides it. */
export const TEST_POSTGRES = process.env.VIGIL_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A schema created for a test run: `url` connects with it first on the search_path. */
export interface TestSchema {
  schema: string;
  url: string;
  drop(): Promise<void>;
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Creates `vigil_test_<random>` and returns a URL whose connections use it. */
export async function freshPostgresSchema(): Promise<TestSchema> {
  const schema = `vigil_test_${randomBytes(6).toString('hex')}`;
  await admin((c) => c.query(`CREATE SCHEMA ${schema}`));
  const url = new URL(TEST_POSTGRES);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return {
    schema,
    url: url.toString(),
    drop: () => admin((c) => c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)).then(() => undefined),
  };
}
