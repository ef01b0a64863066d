import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_OUTBOUND_POLICY, guardedFetch, OutboundBlockedError, refusal, resolveAllowed, type OutboundPolicy } from './outbound.ts';

const strict: OutboundPolicy = { allowPrivate: false, allowLoopback: false, deny: [], allow: [] };

describe('refusal', () => {
  it.each([
    ['169.254.169.254', DEFAULT_OUTBOUND_POLICY, /link-local, metadata/],
    ['::ffff:169.254.169.254', DEFAULT_OUTBOUND_POLICY, /link-local/],
    ['fe80::1', DEFAULT_OUTBOUND_POLICY, /link-local/],
    ['fd00:ec2::254', DEFAULT_OUTBOUND_POLICY, /metadata/],
    ['0.0.0.0', DEFAULT_OUTBOUND_POLICY, /unspecified/],
    ['127.0.0.1', strict, /loopback/],
    ['10.1.2.3', strict, /private/],
    ['192.168.1.1', strict, /private/],
    ['127.0.0.1', { ...DEFAULT_OUTBOUND_POLICY, deny: ['127.0.0.0/8'] }, /denied range/],
  ])('%s is refused', (address, policy, why) => expect(refusal(address, policy)).toMatch(why));

  it.each([
    ['127.0.0.1', DEFAULT_OUTBOUND_POLICY],
    ['10.0.0.5', DEFAULT_OUTBOUND_POLICY],
    ['93.184.216.34', strict],
    ['10.0.0.5', { ...strict, allow: ['10.0.0.0/24'] }],
  ])('%s is allowed', (address, policy) => expect(refusal(address, policy)).toBeUndefined());

  it('never lets an allow-list open metadata', () => {
    expect(refusal('169.254.169.254', { ...DEFAULT_OUTBOUND_POLICY, allow: ['169.254.0.0/16'] })).toMatch(/metadata/);
  });
});

describe('resolveAllowed', () => {
  it('checks what a name resolves to', async () => {
    await expect(resolveAllowed('localhost', strict)).rejects.toBeInstanceOf(OutboundBlockedError);
    expect((await resolveAllowed('localhost', DEFAULT_OUTBOUND_POLICY)).address).toMatch(/^(127\.0\.0\.1|::1)$/);
  });
});

describe('guardedFetch', () => {
  let server: Server;
  let base = '';
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/to-metadata') return res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
      if (req.url === '/to-ok') return res.writeHead(301, { location: '/ok' }).end();
      if (req.url === '/to-file') return res.writeHead(302, { location: 'file:///etc/passwd' }).end();
      res.end('fine');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(() => server.close());

  it('follows allowed redirects and reports them', async () => {
    const { response, redirects, agent } = await guardedFetch(`${base}/to-ok`, {}, { policy: DEFAULT_OUTBOUND_POLICY });
    expect(await response.text()).toBe('fine');
    expect(redirects).toEqual([`${base}/ok`]);
    await agent.close();
  });

  it('re-checks each redirect: a hop to the metadata address or a file: URL is refused', async () => {
    await expect(guardedFetch(`${base}/to-metadata`, {}, { policy: DEFAULT_OUTBOUND_POLICY })).rejects.toThrow(/169\.254\.169\.254 is link-local/);
    await expect(guardedFetch(`${base}/to-file`, {}, { policy: DEFAULT_OUTBOUND_POLICY })).rejects.toThrow(/scheme file: is not allowed/);
  });

  it('refuses names resolving to refused addresses at connect time', async () => {
    const port = (server.address() as { port: number }).port;
    await expect(guardedFetch(`http://localhost:${port}/ok`, {}, { policy: strict })).rejects.toThrow();
    await expect(guardedFetch(`http://127.0.0.1:${port}/ok`, {}, { policy: strict })).rejects.toThrow(/loopback/);
    await expect(guardedFetch('gopher://127.0.0.1/', {}, { policy: DEFAULT_OUTBOUND_POLICY })).rejects.toThrow(/scheme gopher:/);
  });
});
