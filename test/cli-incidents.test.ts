/**
 * `vigil incident list|open|show|status|note` as users run it (the real bin/vigil.js) against a running
 * Vigil: help, opening, the table, the timeline, a refused move exiting 1 with the allowed ones named,
 * usage errors exiting 2.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runVigil, startTestVigil, type TestVigil } from './helpers/vigil.ts';

let v: TestVigil;
let env: NodeJS.ProcessEnv;
let readEnv: NodeJS.ProcessEnv;

beforeAll(async () => {
  v = await startTestVigil({ alerting: { defaultRules: false }, agent: { selfMonitor: false } });
  env = { VIGIL_URL: v.server.urls.api, VIGIL_TOKEN: await v.server.tokens.create('cli-writer', 'write') };
  readEnv = { VIGIL_URL: v.server.urls.api, VIGIL_TOKEN: await v.server.tokens.create('cli-reader', 'read') };
}, 60_000);
afterAll(async () => {
  await v?.stop();
});

// Each CLI run starts a Node process: seconds apiece on a loaded machine, hence the long time-outs.
describe('vigil incident', () => {
  it('every subcommand has --help', async () => {
    const results = await Promise.all([[], ['list'], ['open'], ['show'], ['status'], ['note'], ['diagnose']].map((sub) => runVigil(['incident', ...sub, '--help'])));
    for (const r of results) {
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^Usage: vigil incident/);
    }
    expect(results[0]!.stdout).toMatch(/list[\s\S]*open[\s\S]*show[\s\S]*status/);
  }, 120_000);

  it('opens, lists, moves and shows an incident', async () => {
    const empty = await runVigil(['incident', 'list'], readEnv);
    expect(empty.stdout).toContain('No open incidents');

    const opened = await runVigil(['incident', 'open', 'LMS course registration fails', '--severity', 'sev2', '--service', 'lms-api', '--system', 'lms', '--description', 'Students get an error'], env);
    expect(opened.stderr).toBe('');
    expect(opened.code).toBe(0);
    const id = opened.stdout.trim();
    expect(id).toMatch(/^\d+$/);

    const list = await runVigil(['incident', 'list'], readEnv);
    const lines = list.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^ID\s+SEV\s+STATUS\s+TITLE\s+AFFECTS\s+OPENED\s+DURATION$/);
    expect(lines[1]).toMatch(new RegExp(`^${id}\\s+SEV2\\s+triggered\\s+LMS course registration fails\\s+lms,lms-api\\s+\\d+s ago\\s+\\d+s$`));

    const ack = await runVigil(['incident', 'status', id, 'acknowledged', '--note', 'looking'], env);
    expect(ack.stdout).toBe(`Incident ${id} is acknowledged.\n`);
    const refused = await runVigil(['incident', 'status', id, 'closed'], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('409: an incident that is acknowledged cannot become closed (allowed: investigating, identified, monitoring, resolved)');
    const note = await runVigil(['incident', 'note', id, 'rolled back the role mapping'], env);
    expect(note.stdout).toBe(`Note added to incident ${id}.\n`);
    expect((await runVigil(['incident', 'status', id, 'resolved'], env)).code).toBe(0);

    const show = await runVigil(['incident', 'show', id], readEnv);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain(`#${id} LMS course registration fails`);
    expect(show.stdout).toContain('Status:    resolved (next: closed, reopened)');
    expect(show.stdout).toMatch(/Resolved: +\S+ \(MTTR \d+s\)/);
    expect(show.stdout).toMatch(/token:cli-writer +triggered → acknowledged: looking/);
    expect(show.stdout).toMatch(/token:cli-writer +note: rolled back the role mapping/);
    expect(show.stdout).toMatch(/token:cli-writer +acknowledged → resolved/);

    const diagnosed = await runVigil(['incident', 'diagnose', id], readEnv);
    expect(diagnosed.code).toBe(0);
    expect(diagnosed.stdout).toMatch(new RegExp(`^Diagnosis \\d+ of incident ${id}: ready`));
    expect(diagnosed.stdout).toContain('Compared ');
    const again = await runVigil(['incident', 'diagnose', id, '--run', '--json'], env);
    expect(JSON.parse(again.stdout)).toMatchObject({ incidentId: Number(id), state: 'ready', trigger: 'manual' });
    const json = JSON.parse((await runVigil(['incident', 'list', '--status', 'resolved', '--json'], readEnv)).stdout.trim().split('\n')[0]!) as { id: number; status: string };
    expect(json).toMatchObject({ id: Number(id), status: 'resolved' });
  }, 180_000);

  it('usage errors exit 2; a read token cannot open; an unknown id exits 1', async () => {
    expect((await runVigil(['incident', 'status', '1', 'done'], env)).code).toBe(2);
    expect((await runVigil(['incident', 'show', 'abc'], env)).code).toBe(2);
    expect((await runVigil(['incident', 'open', 'x', '--severity', 'P1'], env)).code).toBe(2);
    const forbidden = await runVigil(['incident', 'open', 'x'], readEnv);
    expect(forbidden.code).toBe(1);
    expect(forbidden.stderr).toContain('403');
    const missing = await runVigil(['incident', 'show', '999999'], readEnv);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('404: no incident "999999"');
  }, 120_000);
});
