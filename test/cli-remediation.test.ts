/**
 * `vigil runbook` and `vigil action` as users run them (the real bin/vigil.js) against a running Vigil
 * and a real loopback target: adding, listing, showing and removing a runbook; listing actions with
 * secrets masked; a run that only shows the request without --yes and sends it with it.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IncidentCreated } from '../src/api/contract.ts';
import { startReceiver, type TestReceiver } from './helpers/notify-receiver.ts';
import { runVigil, startTestVigil, tempDir, type TestVigil } from './helpers/vigil.ts';

let v: TestVigil;
let target: TestReceiver;
let env: NodeJS.ProcessEnv;
let incident: number;
const dir = tempDir('vigil-cli-remediation-');

beforeAll(async () => {
  target = await startReceiver();
  v = await startTestVigil({ alerting: { defaultRules: false }, agent: { selfMonitor: false } });
  env = { VIGIL_URL: v.server.urls.api, VIGIL_TOKEN: await v.server.tokens.create('cli-writer', 'write') };
  const post = async (path: string, body: unknown) => (await fetch(`${v.server.urls.api}${path}`, { method: 'POST', headers: { authorization: `Bearer ${v.adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify(body) })).json();
  await post('/api/v1/actions', { name: 'flush-cache', url: `${target.url}/flush/{{ .Input.region }}`, headers: { 'X-Api-Key': 'k3y-value' }, inputs: { region: 'which region' }, services: ['cart'] });
  incident = ((await post('/api/v1/incidents', { title: 'Cart slow', services: ['cart'] })) as IncidentCreated).id;
}, 60_000);
afterAll(async () => {
  await v?.stop();
  await target?.close();
  dir.cleanup();
});

// Each CLI run starts a Node process: seconds apiece on a loaded machine, hence the long time-outs.
describe('vigil runbook and action', () => {
  it('adds, lists, shows and removes a runbook', async () => {
    const file = join(dir.dir, 'steps.md');
    writeFileSync(file, '# Cart\n\n1. Flush the cache\n');
    const added = await runVigil(['runbook', 'add', '--service', 'cart', '--title', 'Cart is slow', '--file', file, '--action', 'flush-cache'], env);
    expect(added.stderr).toBe('');
    const id = added.stdout.trim();
    expect(id).toMatch(/^\d+$/);
    const [list, show, bad] = await Promise.all([
      runVigil(['runbook', 'list', '--service', 'cart'], env),
      runVigil(['runbook', 'show', id], env),
      runVigil(['runbook', 'add', '--title', 'x', '--file', file], env),
    ]);
    expect(list.stdout).toMatch(/ID\s+SCOPE\s+TITLE\s+ACTIONS\n\d+\s+service:cart\s+Cart is slow\s+flush-cache/);
    expect(show.stdout).toContain('Cart is slow (service:cart; actions: flush-cache)\n\n# Cart');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('exactly one of --service, --rule or --general');
    expect((await runVigil(['runbook', 'rm', id], env)).code).toBe(0);
    expect((await runVigil(['runbook', 'list'], env)).stdout).toContain('No runbooks');
  }, 120_000);

  it('lists actions with secrets masked, and runs one only with --yes', async () => {
    const list = await runVigil(['action', 'list'], env);
    expect(list.stdout).toMatch(/flush-cache\s+POST http:\/\/127\.0\.0\.1:\d+\/flush\/\{\{ \.Input\.region \}\}\s+cart\s+region/);
    const shown = await runVigil(['action', 'run', String(incident), 'flush-cache', '--input', 'region=eu'], env);
    expect(shown.code).toBe(1);
    expect(shown.stdout).toContain(`POST ${target.url}/flush/eu\nX-Api-Key: <secret>`);
    expect(shown.stderr).toContain('add --yes');
    expect(target.requests).toHaveLength(0);
    const bad = await runVigil(['action', 'run', String(incident), 'flush-cache', '--input', 'zone=eu', '--yes'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('input.zone');
    const ran = await runVigil(['action', 'run', String(incident), 'flush-cache', '--input', 'region=eu', '--yes'], env);
    expect(ran.stderr).toBe('');
    expect(ran.code).toBe(0);
    expect(ran.stdout).toMatch(/^ok \(HTTP 200\) in \d+ ms\nok\n$/);
    expect(target.requests.map((r) => [r.path, r.headers['x-api-key']])).toEqual([['/flush/eu', 'k3y-value']]);
  }, 120_000);
});
