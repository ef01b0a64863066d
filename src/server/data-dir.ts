/**
 * The data directory holds every log of the business, the users' password hashes and the key for
 * secrets at rest: only the account Vigil runs as may read it.
 */
import { chmodSync, lstatSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Paths of the stores inside the data directory. */
export function dataPaths(dataDir: string): { telemetry: string; state: string } {
  return { telemetry: join(dataDir, 'telemetry.duckdb'), state: join(dataDir, 'state.sqlite') };
}

/** Permission bits of the data directory and of what Vigil creates in it. */
export const DATA_DIR_MODE = 0o700;

/**
 * Creates the data directory owner-only (0700), tightens one that already exists and the entries
 * directly in it (group and other bits removed), and sets the process umask to 077 — so every file
 * created later, by Vigil or by the stores it embeds (SQLite's -wal/-shm, DuckDB's .wal and spill
 * files, the demo's databases in child processes), is 0600 without each writer having to ask.
 */
export function prepareDataDir(dir: string): void {
  process.umask(0o077);
  mkdirSync(dir, { recursive: true, mode: DATA_DIR_MODE });
  chmodSync(dir, DATA_DIR_MODE);
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const st = lstatSync(path);
    // chmod follows symbolic links: never change the mode of something outside the directory.
    if (!st.isSymbolicLink() && (st.mode & 0o077) !== 0) chmodSync(path, st.mode & 0o700);
  }
}
