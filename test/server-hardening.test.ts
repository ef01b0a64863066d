/**
 * Hardening of the process and its listeners, attacked as a user would notice: data files readable by
 * other local accounts, and slow clients (slow-loris) holding connections open on the UI/API, OTLP and
 * HEC ports.
 */
import { chmodSync, readdirSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/config.ts';
import { runVigil, spawnVigil, startTestVigil, tempDir, type TestVigil } from './helpers/vigil.ts';

/** Every file and directory under `dir`, with its permission bits. */
function modes(dir: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    const path = join(entry.parentPath, entry.name);
    out.set(path.slice(dir.length + 1), statSync(path).mode & 0o777);
  }
  return out;
}

describe('data directory permissions', () => {
  it('creates the directory 0700 and every file in it 0600, tightening an existing 0755 directory at start', async () => {
    const { dir, cleanup } = tempDir();
    try {
      // An installation from before: world-readable directory, file and subdirectory.
      chmodSync(dir, 0o755);
      writeFileSync(join(dir, 'old-notes.txt'), 'x', { mode: 0o644 });
      mkdirSync(join(dir, 'old-dir'), { mode: 0o755 });
      const vigil = await spawnVigil(['start', '--data-dir', dir, '--port', '0', '--otlp-port', '0', '--hec-port', '0']);
      try {
        const created = await runVigil(['token', 'create', '--name', 'perm', '--scope', 'ingest', '--data-dir', dir]);
        expect(created.code).toBe(0);
        const token = created.stdout.trim().split('\n').pop()!;
        // Writes make both stores grow their write-ahead logs.
        const sent = await fetch(`${vigil.urls.hec}/services/collector/event`, { method: 'POST', body: '{"event":"perm"}', headers: { authorization: `Splunk ${token}` } });
        expect(sent.status).toBe(200);
        expect(statSync(dir).mode & 0o777).toBe(0o700);
        const all = modes(dir);
        for (const name of ['state.sqlite', 'state.sqlite-wal', 'state.sqlite-shm', 'telemetry.duckdb', 'telemetry.duckdb.wal', 'secret.key', 'old-notes.txt']) {
          expect(all.get(name), name).toBe(0o600);
        }
        for (const [name, mode] of all) {
          const isDir = statSync(join(dir, name)).isDirectory();
          expect(mode & 0o077, `${name} is ${mode.toString(8)}`).toBe(0);
          if (!isDir) expect(mode, name).toBe(0o600);
        }
        expect(all.get('old-dir')).toBe(0o700);
      } finally {
        vigil.proc.kill('SIGTERM');
        await vigil.exited;
      }
    } finally {
      cleanup();
    }
  });

  it('the CLI creating a fresh data directory makes it owner-only too', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const fresh = join(dir, 'new', 'data');
      expect((await runVigil(['user', 'list', '--data-dir', fresh])).code).toBe(0);
      expect(statSync(fresh).mode & 0o777).toBe(0o700);
      for (const [name, mode] of modes(fresh)) expect(mode, name).toBe(0o600);
    } finally {
      cleanup();
    }
  });
});

describe('slow clients', () => {
  let v: TestVigil;
  beforeAll(async () => {
    v = await startTestVigil({ server: { headersTimeout: '1s', requestTimeout: '2s', keepAliveTimeout: '1s' } });
  });
  afterAll(async () => {
    await v?.stop();
  });

  /** Opens a raw connection and resolves how long the server kept it open, and what it answered. */
  function hold(url: string, drip: (socket: Socket) => void): Promise<{ ms: number; answer: string }> {
    const { hostname, port } = new URL(url);
    return new Promise((resolve, reject) => {
      const started = Date.now();
      const socket = connect(Number(port), hostname, () => drip(socket));
      let answer = '';
      socket.on('data', (d: Buffer) => (answer += d.toString()));
      socket.on('error', () => undefined);
      socket.on('close', () => resolve({ ms: Date.now() - started, answer }));
      setTimeout(() => reject(new Error('the server kept a slow connection open for 15 s')), 15_000).unref();
    });
  }

  /** Sends `text` one byte at a time, every 100 ms, until the socket closes. */
  function trickle(socket: Socket, text: string): void {
    let i = 0;
    const timer = setInterval(() => {
      if (socket.destroyed || i >= text.length) return clearInterval(timer);
      socket.write(text[i++]!);
    }, 100);
    socket.on('close', () => clearInterval(timer));
  }

  it('closes a connection whose headers arrive too slowly, on all three listeners, while others are served', async () => {
    const urls = [v.server.urls.api, v.server.urls.otlp, v.server.urls.hec];
    const slow = urls.map((url) => hold(url, (s) => trickle(s, `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ${'a'.repeat(200)}`)));
    // Meanwhile, normal requests are answered at once.
    expect((await fetch(`${v.server.urls.api}/healthz`)).status).toBe(200);
    expect((await fetch(`${v.server.urls.hec}/services/collector/event`, { method: 'POST', body: '{"event":"fast"}', headers: { authorization: `Splunk ${v.ingestToken}` } })).status).toBe(200);
    for (const [i, r] of (await Promise.all(slow)).entries()) {
      // headersTimeout 1 s, checked every second: closed within about 2 s, not the 60 s+ of before.
      expect(r.ms, urls[i]).toBeLessThan(3500);
      expect(r.answer, urls[i]).toMatch(/^HTTP\/1\.1 408/);
    }
  });

  it('closes a connection whose body arrives too slowly (ingest and API), and the receivers keep working', async () => {
    const body = `{"event":"${'b'.repeat(200)}"}`;
    const head = (path: string, auth: string) => `POST ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: ${auth}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
    const slow = [
      hold(v.server.urls.hec, (s) => {
        s.write(head('/services/collector/event', `Splunk ${v.ingestToken}`));
        trickle(s, body);
      }),
      hold(v.server.urls.api, (s) => {
        s.write(head('/api/v1/auth/login', 'none'));
        trickle(s, body);
      }),
    ];
    for (const r of await Promise.all(slow)) expect(r.ms).toBeLessThan(4500);
    expect((await fetch(`${v.server.urls.hec}/services/collector/event`, { method: 'POST', body: '{"event":"after"}', headers: { authorization: `Splunk ${v.ingestToken}` } })).status).toBe(200);
    expect((await fetch(`${v.server.urls.api}/healthz`)).status).toBe(200);
  });

  it('closes idle keep-alive connections after server.keepAliveTimeout', async () => {
    const r = await hold(v.server.urls.api, (s) => s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'));
    expect(r.answer).toMatch(/^HTTP\/1\.1 200/);
    expect(r.ms).toBeLessThan(3000);
  });

  it('validates the time-outs, naming the key', () => {
    expect(() => loadConfig({ env: {}, flags: { server: { headersTimeout: '20s', requestTimeout: '5s' } } })).toThrow(/server\.requestTimeout .*at least server\.headersTimeout/);
    expect(() => loadConfig({ env: { VIGIL_SERVER__HEADERS_TIMEOUT: 'soon' } })).toThrow(/server\.headersTimeout \(environment VIGIL_SERVER__HEADERS_TIMEOUT\): expected a duration/);
    expect(loadConfig({ env: {} }).server).toEqual({ headersTimeout: '10s', requestTimeout: '30s', keepAliveTimeout: '65s' });
  });
});
