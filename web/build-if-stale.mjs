#!/usr/bin/env node
// Builds the web UI (web/ → dist/web) when dist/web is missing or older than any source file, so
// `npm start` and the browser tests always serve the current UI with no extra step. `--force` rebuilds.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const web = dirname(fileURLToPath(import.meta.url));
const out = join(web, '..', 'dist', 'web', 'index.html');

function newest(path) {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let m = st.mtimeMs;
  for (const name of readdirSync(path)) if (name !== 'node_modules') m = Math.max(m, newest(join(path, name)));
  return m;
}

/** Whether dist/web is missing or older than web/src, web/public, web/index.html or the Vite config. */
export function webBuildStale() {
  if (!existsSync(out)) return true;
  const built = statSync(out).mtimeMs;
  const sources = ['src', 'public', 'index.html', 'vite.config.ts'].map((p) => join(web, p)).filter(existsSync);
  return sources.some((p) => newest(p) > built);
}

/** Runs the Vite build in-process. */
export async function buildWeb() {
  const { build } = await import('vite');
  await build({ configFile: join(web, 'vite.config.ts'), logLevel: 'warn' });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (process.argv.includes('--force') || webBuildStale()) {
    const t0 = Date.now();
    await buildWeb();
    console.log(`web UI built into dist/web in ${Date.now() - t0} ms`);
  }
}
