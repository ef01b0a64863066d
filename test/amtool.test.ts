/**
 * Alertmanager's own client against Vigil: amtool (Debian's prometheus-alertmanager) with a bearer
 * token from `--http.config.file` adds, lists and expires silences and queries alerts — the
 * Alertmanager API v2 is a contract users' tools already speak.
 */
import { execFile } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AmGettableSilence } from '../src/api/contract.ts';
import { startTestVigil, tempDir, type TestVigil } from './helpers/vigil.ts';

const AMTOOL = ['/usr/bin/amtool', '/usr/local/bin/amtool'].find((p) => existsSync(p));
const run = promisify(execFile);
const dirs = tempDir('vigil-amtool-');
let v: TestVigil;
let httpConfig = '';

beforeAll(async () => {
  if (!AMTOOL) return;
  v = await startTestVigil({ alerting: { defaultRules: false }, agent: { selfMonitor: false } });
  const token = await v.server.tokens.create('amtool', 'write');
  httpConfig = join(dirs.dir, 'amtool-http.yml');
  writeFileSync(httpConfig, `authorization:\n  type: Bearer\n  credentials: ${token}\n`);
}, 60_000);

afterAll(async () => {
  await v?.stop();
  dirs.cleanup();
});

async function amtool(...args: string[]): Promise<string> {
  const { stdout } = await run(AMTOOL!, [`--alertmanager.url=${v.server.urls.api}`, `--http.config.file=${httpConfig}`, ...args], { timeout: 30_000 });
  return stdout;
}

describe('amtool against Vigil', () => {
  // CI installs it (.ci/run); a missing client fails here instead of passing by skipping.
  it('finds amtool (apt-get install prometheus-alertmanager)', () => {
    expect(AMTOOL, 'amtool is not installed: apt-get install prometheus-alertmanager').toBeTruthy();
  });

  it('adds, lists and expires a silence', async () => {
    const id = (await amtool('silence', 'add', 'alertname=DiskFull', 'instance=~"db-.*"', '--duration', '2h', '--comment', 'disk swap', '--author', 'ops')).trim();
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const stored = (await (await fetch(`${v.server.urls.api}/api/v2/silence/${id}`, { headers: { authorization: `Bearer ${v.adminToken}` } })).json()) as AmGettableSilence;
    expect(stored).toMatchObject({ id, createdBy: 'ops', comment: 'disk swap', status: { state: 'active' } });
    expect(stored.matchers).toContainEqual(expect.objectContaining({ name: 'instance', value: 'db-.*', isRegex: true }));
    expect(Date.parse(stored.endsAt) - Date.parse(stored.startsAt)).toBeGreaterThan(2 * 3_600_000 - 60_000);

    const listed = await amtool('silence', 'query');
    expect(listed).toContain(id);
    expect(listed).toContain('disk swap');
    expect(await amtool('silence', 'query', '-q', 'alertname=DiskFull')).toContain(id);
    const json = JSON.parse(await amtool('silence', 'query', '-o', 'json')) as AmGettableSilence[];
    expect(json.map((s) => s.id)).toContain(id);

    await amtool('silence', 'expire', id);
    expect(await amtool('silence', 'query', '-q')).not.toContain(id);
    expect(await amtool('silence', 'query', '--expired', '-q')).toContain(id);
  });

  it('queries alerts, including alerts another tool posted', async () => {
    const res = await fetch(`${v.server.urls.api}/api/v2/alerts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${v.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify([{ labels: { alertname: 'AmtoolVisible', severity: 'page' }, annotations: { summary: 'seen by amtool' } }]),
    });
    expect(res.status).toBe(200);
    const out = await amtool('alert', 'query');
    expect(out).toContain('AmtoolVisible');
    const json = JSON.parse(await amtool('alert', 'query', '-o', 'json', 'alertname=AmtoolVisible')) as { labels: Record<string, string> }[];
    expect(json.map((a) => a.labels.severity)).toEqual(['page']);
    expect(await amtool('alert', 'query', 'alertname=NoSuchAlert')).not.toContain('AmtoolVisible');
  });

  it('answers its status as an Alertmanager of the API level it follows, so amtool does not warn', async () => {
    const { stdout: version } = await run(AMTOOL!, ['--version']);
    const { stderr } = await run(AMTOOL!, [`--alertmanager.url=${v.server.urls.api}`, `--http.config.file=${httpConfig}`, 'silence', 'query'], { timeout: 30_000 });
    if (/version 0\.25\./.test(version)) expect(stderr).toBe('');
    const status = (await (await fetch(`${v.server.urls.api}/api/v2/status`, { headers: { authorization: `Bearer ${v.adminToken}` } })).json()) as { cluster: { status: string }; versionInfo: { version: string; revision: string }; config: { original: string } };
    expect(status.cluster.status).toBe('disabled');
    expect(status.versionInfo.version).toBe('0.25.0');
    expect(status.versionInfo.revision).toMatch(/^vigil-/);
    expect(status.config.original).toMatch(/route:/);
  });

  it('is refused without a valid token', async () => {
    const bad = join(dirs.dir, 'bad-http.yml');
    writeFileSync(bad, 'authorization:\n  type: Bearer\n  credentials: vgl_wrong\n');
    await expect(run(AMTOOL!, [`--alertmanager.url=${v.server.urls.api}`, `--http.config.file=${bad}`, 'silence', 'query'], { timeout: 30_000 })).rejects.toThrow();
  });
});
