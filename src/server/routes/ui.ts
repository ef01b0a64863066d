/**
 * Serves the web UI: the single-page app built by Vite into `dist/web` (`npm run build:web`).
 *
 * - Files are read once at start into memory (the build is a few hundred kB), so a request can only
 *   ever be answered from that fixed set: path traversal has nothing to reach. Paths that try anyway —
 *   `..`, encoded `%2e%2e%2f` or double-encoded `%252e%252e%252f`, backslashes, NUL — get a 404 rather
 *   than the app shell, so scanners and tests see a plain refusal.
 * - Hashed assets (`/assets/*`) are cached for a year as immutable; `index.html` is revalidated every time
 *   (no-cache + ETag) so a new build is picked up at once.
 * - Any other GET that looks like a client route (no file extension, not under `/api/`) answers the app
 *   shell, so deep links such as `/services/checkout` work after a reload.
 *
 * Everything here is `public`: the shell holds no data; every figure comes from the authenticated API.
 * Security headers (the strict CSP the UI is built for: no inline script, no eval, nothing from other
 * origins) are added to every response by src/server/security-headers.ts.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';

/** One file of the build, in memory. */
interface StaticFile {
  body: Buffer;
  type: string;
  etag: string;
  immutable: boolean;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

/** Default location of the built UI: `<repo>/dist/web`. */
export const DEFAULT_WEB_DIR = new URL('../../../dist/web/', import.meta.url).pathname;

function loadFiles(dir: string): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  if (!existsSync(dir)) return files;
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const full = join(d, name);
      if (statSync(full).isDirectory()) walk(full);
      else {
        const body = readFileSync(full);
        const rel = relative(dir, full).split(sep).join('/');
        files.set(`/${rel}`, {
          body,
          type: TYPES[extname(name).toLowerCase()] ?? 'application/octet-stream',
          etag: `"${createHash('sha1').update(body).digest('base64url').slice(0, 20)}"`,
          immutable: rel.startsWith('assets/'),
        });
      }
    }
  };
  walk(dir);
  return files;
}

/**
 * Decodes a request path, refusing anything that could step outside the build: undefined when the
 * path (raw, decoded once, or decoded twice) holds `..` segments, backslashes, NUL or bad escapes.
 */
export function safePath(rawUrl: string): string | undefined {
  const raw = rawUrl.split('?')[0]!.split('#')[0]!;
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    return undefined;
  }
  // A second round catches double encoding: %252e%252e%252f → %2e%2e%2f → ../
  let twice = decoded;
  try {
    twice = decodeURIComponent(decoded);
  } catch {
    // Literal % in a name is fine once; only refuse when the second round would reveal traversal.
  }
  for (const p of [raw, decoded, twice]) {
    if (p.includes('\\') || p.includes('\0') || /(^|\/)\.\.?(\/|$)/.test(p)) return undefined;
  }
  if (!decoded.startsWith('/')) return undefined;
  return decoded.replace(/\/{2,}/g, '/');
}

const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Vigil</title></head>
<body style="font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;line-height:1.5">
<h1>Vigil's web UI is not built yet</h1>
<p>Run <code>npm run build:web</code> (or <code>npm install</code>, which builds it) and reload this page.
The API is running: see <code>docs/api.md</code>.</p></body></html>`;

/** Registers the UI routes: `GET /` and the catch-all for assets and client routes. */
export function registerUiRoutes(app: FastifyInstance, opts: { dir?: string } = {}): void {
  const files = loadFiles(opts.dir ?? DEFAULT_WEB_DIR);
  const index = files.get('/index.html');

  const send = (reply: FastifyReply, file: StaticFile, ifNoneMatch: string | undefined) => {
    void reply
      .header('content-type', file.type)
      .header('etag', file.etag)
      .header('cache-control', file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
    if (ifNoneMatch === file.etag) return reply.code(304).send();
    return reply.send(file.body);
  };

  const handler = async (req: { url: string; method: string; headers: Record<string, string | string[] | undefined> }, reply: FastifyReply) => {
    const path = safePath(req.url);
    if (path === undefined) return reply.code(404).type('application/json').send({ error: 'not found' });
    if (path === '/api' || path.startsWith('/api/')) {
      return reply.code(404).send({ error: `no API route ${req.method} ${path.slice(0, 200)}; see docs/api.md` });
    }
    const inm = typeof req.headers['if-none-match'] === 'string' ? req.headers['if-none-match'] : undefined;
    const file = files.get(path);
    if (file) return send(reply, file, inm);
    // Missing files (anything with an extension, or under /assets/) are real 404s, not the app shell.
    const last = path.slice(path.lastIndexOf('/') + 1);
    if (path.startsWith('/assets/') || last.includes('.')) return reply.code(404).type('application/json').send({ error: 'not found' });
    if (!index) return reply.code(503).header('content-type', 'text/html; charset=utf-8').header('cache-control', 'no-cache').send(NOT_BUILT);
    return send(reply, index, inm);
  };

  app.get('/', { config: { access: 'public' } }, handler);
  app.get('/*', { config: { access: 'public' } }, handler);
}
