/**
 * `vigil change` and `vigil change list` as users run them (the real bin/vigil.js) against a real
 * server: a deploy recorded with an ingest token is listed as the CLI's, refusals exit 2 naming the
 * option or field, and `--help` shows the options.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChangeEntry } from '../src/api/contract.ts';
import { runVigil, startTestVigil, type TestVigil } from './helpers/vigil.ts';

let v: TestVigil;
let readToken: string;
const env = () => ({ VIGIL_URL: v.server.urls.api, VIGIL_TOKEN: v.ingestToken });

beforeAll(async () => {
  v = await startTestVigil({ agent: { selfMonitor: false }, alerting: { defaultRules: false } });
  readToken = await v.server.tokens.create('cli-read', 'read');
}, 60_000);
afterAll(async () => v?.stop());

describe('vigil change', () => {
  it('records a deploy (prints its id) and lists it, as a table and as JSON', async () => {
    const at = '2026-12-01T10:00:00.000Z';
    const r = await runVigil(['change', '--service', 'lms-api', '--kind', 'deploy', '--version', '2.5.0', '--previous-version', '2.4.1', '--description', 'progress API v2', '--author', 'alice', '--commit', '9fceb02', '--at', at, '--attr', 'pipeline=release', '--attr', 'run=42'], env());
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const id = Number(r.stdout.trim());
    expect(id).toBeGreaterThan(0);
    const stored = await v.server.changes.get(id);
    expect(stored).toMatchObject({ at: Date.parse(at), service: 'lms-api', kind: 'deploy', version: '2.5.0', previousVersion: '2.4.1', description: 'progress API v2', author: 'alice', commit: '9fceb02', source: 'cli', attributes: { pipeline: 'release', run: '42' } });

    // Defaults: kind deploy, now, the user's name as author.
    const now = await runVigil(['change', '--service', 'rms-api', '--version', '1.5.0'], env());
    expect(now.code).toBe(0);
    const second = (await v.server.changes.get(Number(now.stdout.trim())))!;
    expect(second).toMatchObject({ kind: 'deploy', source: 'cli', version: '1.5.0' });
    expect(second.author).toBeTruthy();
    expect(Math.abs(Date.now() - second.at)).toBeLessThan(30_000);

    const listEnv = { VIGIL_URL: v.server.urls.api, VIGIL_TOKEN: readToken };
    const table = await runVigil(['change', 'list', '--since', '30d'], listEnv);
    expect(table.code).toBe(0);
    const lines = table.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^TIME\s+AGE\s+SERVICE\s+KIND\s+VERSION\s+SOURCE\s+AUTHOR\s+DESCRIPTION$/);
    // Newest first.
    expect(lines[1]).toMatch(/rms-api\s+deploy\s+1\.5\.0\s+cli/);
    expect(lines[2]).toMatch(/^2026-12-01T10:00:00\.000Z\s+\S+\s+lms-api\s+deploy\s+2\.5\.0 ← 2\.4\.1\s+cli\s+alice\s+progress API v2$/);

    const json = await runVigil(['change', 'list', '--since', '30d', '--service', 'lms-api', '--json'], listEnv);
    expect(json.stdout.trim().split('\n').map((l) => (JSON.parse(l) as ChangeEntry).id)).toEqual([id]);
    const none = await runVigil(['change', 'list', '--since', '1h', '--kind', 'feature_flag'], listEnv);
    expect(none.stdout).toContain('No changes in the last 1h');
  }, 60_000);

  it('refuses what is missing or wrong with exit 2, naming it', async () => {
    const noService = await runVigil(['change', '--version', '1'], env());
    expect(noService.code).toBe(2);
    expect(noService.stderr).toContain('--service is required');
    const kind = await runVigil(['change', '--service', 'a', '--kind', 'deploi'], env());
    expect(kind.code).toBe(2);
    expect(kind.stderr).toContain('--kind: "deploi" is not one of deploy, config');
    const at = await runVigil(['change', '--service', 'a', '--at', 'yesterday'], env());
    expect(at.code).toBe(2);
    expect(at.stderr).toContain('--at: "yesterday" is not a time');
    // The server's refusal comes through with the field it names.
    const long = await runVigil(['change', '--service', 'a', '--version', 'v'.repeat(200)], env());
    expect(long.code).toBe(2);
    expect(long.stderr).toContain('400: version: at most 128 characters');
    // Listing needs read scope; the ingest token is refused.
    const denied = await runVigil(['change', 'list'], env());
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain('403');
  }, 60_000);

  it('--help names every option and the list subcommand', async () => {
    const r = await runVigil(['change', '--help']);
    expect(r.code).toBe(0);
    for (const o of ['--service', '--kind', '--version', '--previous-version', '--description', '--author', '--commit', '--at', 'list']) expect(r.stdout).toContain(o);
    const list = await runVigil(['change', 'list', '--help']);
    for (const o of ['--since', '--service', '--kind', '--json']) expect(list.stdout).toContain(o);
  }, 30_000);
});
