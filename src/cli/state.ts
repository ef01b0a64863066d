import { resolve } from 'node:path';
import { userInfo } from 'node:os';
import { dataPaths, prepareDataDir } from '../server/data-dir.ts';
import type { StateDb } from '../store/state/db.ts';
import { configOrExit, fail } from './options.ts';

/** Options every state-managing command takes. */
export const dataDirOption = ['--data-dir <dir>', 'data directory of the Vigil to manage (VIGIL_DATA_DIR, default ./data)'] as const;
export const configOption = ['--config <file>', 'configuration file (VIGIL_CONFIG)'] as const;

/** The audit actor of CLI changes. */
export const cliActor = (): string => `cli:${userInfo().username}`;

/**
 * Opens the configured state store (the data directory's SQLite file, or `store.state`'s PostgreSQL)
 * for one command; works while the server runs (SQLite in WAL mode). Errors of the listed kinds are
 * the user's: printed, exit status 2.
 */
export async function withStateDb<T>(opts: { dataDir?: string; config?: string }, userErrors: (new (...args: never[]) => Error)[], fn: (db: StateDb) => Promise<T>): Promise<T> {
  const config = configOrExit({ dataDir: opts.dataDir }, opts.config);
  const dir = resolve(config.dataDir);
  // The CLI may be first to create the directory or the state store: same owner-only modes as the server.
  prepareDataDir(dir);
  // Loaded on use so that --help and usage errors answer without loading the store's driver.
  const { openStateDb, stateLocation } = await import('../store/state/db.ts');
  // An unreachable or unmigratable store is reported in one line (its message names it), not as a crash.
  const db = await openStateDb(stateLocation(config.store.state, dataPaths(dir).state)).catch((err: Error) => fail(err.message));
  try {
    return await fn(db);
  } catch (err) {
    if (userErrors.some((kind) => err instanceof kind)) fail((err as Error).message, 2);
    throw err;
  } finally {
    await db.destroy();
  }
}
