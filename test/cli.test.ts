/**
 * The `vigil` command as users run it: help on every subcommand, tokens managed while the server
 * runs, configuration errors exiting with status 2 and naming the key.
 */
import { spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { runVigil, spawnVigil, startTestVigil, tempDir } from './helpers/vigil.ts';

const { dir, cleanup } = tempDir();
afterAll(cleanup);

describe('vigil CLI', () => {
  const COMMANDS = [[], ['start'], ['agent'], ['token'], ['token', 'create'], ['token', 'list'], ['token', 'revoke'], ['user'], ['user', 'create'], ['user', 'list'], ['user', 'delete'], ['user', 'reset-password'], ['search'], ['demo'], ['demo', 'fault'], ['demo', 'fault', 'list'], ['demo', 'remediate'], ['demo', 'status'], ['alerts'], ['silence'], ['silence', 'add'], ['silence', 'list'], ['silence', 'expire'], ['rules'], ['rules', 'check'], ['incident'], ['incident', 'list'], ['incident', 'open'], ['incident', 'show'], ['incident', 'status'], ['incident', 'note'], ['change'], ['change', 'list']];
  // Required options are checked before unknown ones: give them, so the unknown option is what is refused.
  const REQUIRED: Record<string, string[]> = { 'token create': ['--name', 'x', '--scope', 'read'], 'silence add': ['--comment', 'x'] };

  it.each(COMMANDS.map((c) => [c]))('%j: --help works, and an unknown option is refused with status 2 naming it', async (args) => {
    const [help, unknown] = await Promise.all([runVigil([...args, '--help']), runVigil([...args, ...(REQUIRED[args.join(' ')] ?? []), '--no-such-option'])]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: vigil/);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown option '--no-such-option'/);
  });

  it('refuses an option of a parent command given after a subcommand, and excess arguments', async () => {
    // --admin-port belongs to `vigil demo`; after `fault list` it used to be taken silently, and the
    // command then talked to the default port.
    const misplaced = await runVigil(['demo', 'fault', 'list', '--admin-port', '1']);
    expect(misplaced.code).toBe(2);
    expect(misplaced.stderr).toMatch(/unknown option '--admin-port'/);
    const excess = [['token', 'revoke', 'a', 'b'], ['user', 'list', 'extra'], ['demo', 'status', 'extra'], ['demo', 'fault', 'x', 'on', 'extra'], ['search', 'q1', 'q2']];
    for (const [i, res] of (await Promise.all(excess.map((args) => runVigil(args)))).entries()) {
      expect(res.code, excess[i]!.join(' ')).toBe(2);
      expect(res.stderr, excess[i]!.join(' ')).toMatch(/too many arguments/);
    }
    const unknown = await runVigil(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command 'frobnicate'/);
  });

  it('exits quietly when the reader of its output goes away (vigil search … | head)', async () => {
    const v = await startTestVigil();
    try {
      const proc = spawn(process.execPath, ['bin/vigil.js', 'search', '--url', v.server.urls.api, 'from logs'], {
        cwd: new URL('../', import.meta.url).pathname,
        env: { ...process.env, VIGIL_TOKEN: v.adminToken },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      // Close the read end at once, as `head` does once it has its lines: every write then fails with EPIPE.
      proc.stdout.destroy();
      let stderr = '';
      proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const code = await new Promise<number | null>((resolve) => proc.on('exit', resolve));
      expect(stderr).not.toMatch(/EPIPE|Error|at /);
      expect(code).toBe(0);
    } finally {
      await v.stop();
    }
  });

  it('creates users with a generated password shown once, or one read from stdin, and prints the first-run admin', async () => {
    const created = await runVigil(['user', 'create', '--admin', '--data-dir', dir]);
    expect(created.code).toBe(0);
    const password = created.stdout.trim().split('\n').pop()!;
    expect(password).toMatch(/^[A-Za-z0-9_-]{24}$/);
    const dup = await runVigil(['user', 'create', '--admin', '--data-dir', dir]);
    expect(dup.code).toBe(2);
    expect(dup.stderr).toMatch(/already exists/);
    const badRole = await runVigil(['user', 'create', '--username', 'x', '--role', 'root', '--data-dir', dir]);
    expect(badRole.code).toBe(2);
    expect(badRole.stderr).toMatch(/invalid role "root"/);
    const listed = await runVigil(['user', 'list', '--data-dir', dir]);
    expect(listed.stdout).toMatch(/admin\s+admin/);

    const fresh = tempDir();
    try {
      const vigil = await spawnVigil(['start', '--data-dir', fresh.dir, '--port', '0', '--otlp-port', '0', '--hec-port', '0']);
      const line = /sign in\s+(\S+) as admin \/ (\S+)/.exec(vigil.output());
      expect(line).not.toBeNull();
      const login = await fetch(`${line![1]}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: line![2] }) });
      expect(login.status).toBe(200);
      vigil.proc.kill('SIGTERM');
      await vigil.exited;
    } finally {
      fresh.cleanup();
    }
  }, 180_000); // many CLI processes one after another: room for a loaded machine

  it('exits 2 naming the key for invalid configuration', async () => {
    const flag = await runVigil(['start', '--data-dir', dir, '--port', 'nope']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/port \(flag --port\): /);
    const env = await runVigil(['start', '--data-dir', dir], { VIGIL_RETENTION__LOGS: 'soon' });
    expect(env.code).toBe(2);
    expect(env.stderr).toMatch(/retention\.logs \(environment VIGIL_RETENTION__LOGS\): expected a duration/);
    const file = await runVigil(['start', '--data-dir', dir, '--config', `${dir}/missing.yaml`]);
    expect(file.code).toBe(2);
    expect(file.stderr).toMatch(/missing\.yaml: cannot be read/);
  });

  it('creates, lists and revokes tokens while the server runs', async () => {
    const vigil = await spawnVigil(['start', '--data-dir', dir, '--port', '0', '--otlp-port', '0', '--hec-port', '0']);
    try {
      const created = await runVigil(['token', 'create', '--name', 'collector', '--scope', 'ingest', '--data-dir', dir]);
      expect(created.code).toBe(0);
      const secret = created.stdout.trim().split('\n').pop()!;
      expect(secret).toMatch(/^vgl_[A-Za-z0-9_-]{43}$/);

      const send = () => fetch(`${vigil.urls.hec}/services/collector/event`, { method: 'POST', body: '{"event":"cli"}', headers: { authorization: `Splunk ${secret}` } });
      expect((await send()).status).toBe(200);

      const listed = await runVigil(['token', 'list', '--data-dir', dir]);
      expect(listed.stdout).toMatch(/collector\s+ingest/);
      expect(listed.stdout).not.toContain(secret);
      const json = await runVigil(['token', 'list', '--json', '--data-dir', dir]);
      expect(JSON.parse(json.stdout.trim().split('\n')[0]!)).toMatchObject({ name: 'collector', scope: 'ingest', revokedAt: null });

      const dup = await runVigil(['token', 'create', '--name', 'collector', '--scope', 'ingest', '--data-dir', dir]);
      expect(dup.code).toBe(2);
      expect(dup.stderr).toMatch(/already exists/);
      const badScope = await runVigil(['token', 'create', '--name', 'x', '--scope', 'root', '--data-dir', dir]);
      expect(badScope.code).toBe(2);
      expect(badScope.stderr).toMatch(/invalid scope "root": expected one of ingest, read, write, admin/);

      const revoked = await runVigil(['token', 'revoke', 'collector', '--data-dir', dir]);
      expect(revoked.code).toBe(0);
      expect((await send()).status).toBe(403);
      const again = await runVigil(['token', 'revoke', 'collector', '--data-dir', dir]);
      expect(again.code).toBe(2);
    } finally {
      vigil.proc.kill('SIGTERM');
      await vigil.exited;
    }
  }, 180_000); // many CLI processes one after another: room for a loaded machine
});
