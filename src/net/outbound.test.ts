import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_OUTBOUND_POLICY, embeddedIpv4, guardedFetch, isCredentialHeader, OutboundBlockedError, refusal, resolveAllowed, type OutboundPolicy } from './outbound.ts';

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

describe('IPv6 forms of IPv4 addresses', () => {
  // [address, the IPv4 address it carries] — 169.254.169.254 is a9fe:a9fe, 127.0.0.1 is 7f00:1.
  it.each([
    ['::7f00:1', '127.0.0.1'], // IPv4-compatible
    ['::127.0.0.1', '127.0.0.1'],
    ['::a9fe:a9fe', '169.254.169.254'],
    ['::ffff:7f00:1', '127.0.0.1'], // IPv4-mapped, hex form
    ['::ffff:169.254.169.254', '169.254.169.254'],
    ['::ffff:0:a9fe:a9fe', '169.254.169.254'], // SIIT
    ['::ffff:0:127.0.0.1', '127.0.0.1'],
    ['64:ff9b::a9fe:a9fe', '169.254.169.254'], // NAT64 well-known prefix
    ['64:ff9b::10.0.0.1', '10.0.0.1'],
    ['64:ff9b:1::a9fe:a9fe', '169.254.169.254'], // local-use NAT64, /96 layout
    ['64:ff9b:1:a9fe:a9:fe00::', '169.254.169.254'], // local-use NAT64, /48 layout (u octet skipped)
    ['2002:a9fe:a9fe::1', '169.254.169.254'], // 6to4
    ['2002:7f00:1::', '127.0.0.1'],
    ['2001:0:4136:e378:8000:63bf:5601:5601', '169.254.169.254'], // Teredo: client stored inverted
    ['2001:0:4136:e378:8000:63bf:80ff:fffe', '127.0.0.1'],
  ])('%s carries %s', (address, v4) => expect(embeddedIpv4(address)).toContain(v4));

  it.each([['::1'], ['::'], ['2001:db8::1'], ['fe80::1'], ['2606:4700::1111']])('%s carries no IPv4 address', (address) => expect(embeddedIpv4(address)).toEqual([]));

  it.each([
    ['::7f00:1', strict, /carries the IPv4 address 127\.0\.0\.1, which is loopback/],
    ['::ffff:7f00:1', strict, /loopback/],
    ['::ffff:0:7f00:1', strict, /loopback/],
    ['::a9fe:a9fe', DEFAULT_OUTBOUND_POLICY, /169\.254\.169\.254, which is link-local/],
    ['64:ff9b::a9fe:a9fe', DEFAULT_OUTBOUND_POLICY, /link-local/],
    ['64:ff9b::7f00:1', strict, /loopback/],
    ['64:ff9b:1::a9fe:a9fe', DEFAULT_OUTBOUND_POLICY, /link-local/],
    ['64:ff9b:1:a9fe:a9:fe00::', DEFAULT_OUTBOUND_POLICY, /link-local/],
    ['2002:a9fe:a9fe::', DEFAULT_OUTBOUND_POLICY, /link-local/],
    ['2002:c0a8:101::1', strict, /192\.168\.1\.1, which is a private address/],
    ['2001:0:4136:e378:8000:63bf:5601:5601', DEFAULT_OUTBOUND_POLICY, /link-local/],
    ['2001:0:4136:e378:8000:63bf:80ff:fffe', strict, /loopback/],
    ['::ffff:7f00:1', { ...DEFAULT_OUTBOUND_POLICY, deny: ['127.0.0.0/8'] }, /denied range/],
  ])('%s is refused by the IPv4 rules', (address, policy, why) => expect(refusal(address, policy)).toMatch(why));

  it.each([
    ['::1', DEFAULT_OUTBOUND_POLICY],
    ['2002:5db8:d822::1', strict], // 6to4 of a public address
    ['64:ff9b::5db8:d822', strict],
    ['64:ff9b:1::5db8:d822', strict],
    ['2606:4700::1111', strict],
    ['::ffff:7f00:1', { ...strict, allow: ['127.0.0.0/8'] }],
  ])('%s is allowed', (address, policy) => expect(refusal(address, policy)).toBeUndefined());

  it('refuses a URL or a connection to an IPv6 form of the metadata address', async () => {
    await expect(guardedFetch('http://[::ffff:a9fe:a9fe]/latest/meta-data/', {}, { policy: DEFAULT_OUTBOUND_POLICY })).rejects.toThrow(/169\.254\.169\.254/);
    await expect(guardedFetch('http://[64:ff9b::169.254.169.254]/', {}, { policy: DEFAULT_OUTBOUND_POLICY })).rejects.toThrow(/link-local/);
    await expect(resolveAllowed('::7f00:1', strict)).rejects.toThrow(/loopback/);
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

describe('credentials on redirects', () => {
  const sent = { authorization: 'Bearer secret-1', cookie: 'session=secret-2', 'x-api-key': 'secret-3', 'x-vault-token': 'secret-4', 'proxy-authorization': 'Basic c2VjcmV0', accept: 'application/json' };
  let first: Server;
  let second: Server;
  let firstBase = '';
  let secondBase = '';
  const seen: Record<string, Record<string, string | string[] | undefined>> = {};
  beforeAll(async () => {
    second = createServer((req, res) => {
      seen[`second${req.url}`] = req.headers;
      // The second origin may send the chain back to the first: credentials stay dropped.
      if (req.url === '/back') return res.writeHead(302, { location: `${firstBase}/returned` }).end();
      res.end('second');
    });
    await new Promise<void>((r) => second.listen(0, '127.0.0.1', r));
    secondBase = `http://127.0.0.1:${(second.address() as { port: number }).port}`;
    first = createServer((req, res) => {
      seen[`first${req.url}`] = req.headers;
      if (req.url === '/away') return res.writeHead(302, { location: `${secondBase}/landed` }).end();
      if (req.url === '/away-and-back') return res.writeHead(307, { location: `${secondBase}/back` }).end();
      if (req.url === '/here') return res.writeHead(302, { location: '/landed' }).end();
      res.end('first');
    });
    await new Promise<void>((r) => first.listen(0, '127.0.0.1', r));
    firstBase = `http://127.0.0.1:${(first.address() as { port: number }).port}`;
  });
  afterAll(() => {
    first.close();
    second.close();
  });

  it.each([['authorization'], ['Proxy-Authorization'], ['cookie'], ['X-Api-Key'], ['X-Vault-Token'], ['x-session-id'], ['X-Db-Password'], ['x-client-secret']])('%s is a credential header', (name) => expect(isCredentialHeader(name)).toBe(true));
  it.each([['accept'], ['content-type'], ['user-agent'], ['x-request-id']])('%s is not a credential header', (name) => expect(isCredentialHeader(name)).toBe(false));

  it('are not sent to another origin (another port of the same host)', async () => {
    const { response, agent } = await guardedFetch(`${firstBase}/away`, { headers: sent }, { policy: DEFAULT_OUTBOUND_POLICY });
    expect(await response.text()).toBe('second');
    await agent.close();
    expect(seen['first/away']).toMatchObject(sent);
    const landed = seen['second/landed']!;
    for (const name of ['authorization', 'cookie', 'x-api-key', 'x-vault-token', 'proxy-authorization']) expect(landed[name]).toBeUndefined();
    expect(JSON.stringify(landed)).not.toContain('secret');
    expect(landed.accept).toBe('application/json');
  });

  it('stay dropped when the chain comes back to the first origin', async () => {
    const { agent } = await guardedFetch(`${firstBase}/away-and-back`, { headers: sent }, { policy: DEFAULT_OUTBOUND_POLICY });
    await agent.close();
    expect(JSON.stringify(seen['second/back'])).not.toContain('secret');
    expect(JSON.stringify(seen['first/returned'])).not.toContain('secret');
  });

  it('are kept on a same-origin redirect', async () => {
    const { response, agent } = await guardedFetch(`${firstBase}/here`, { headers: sent }, { policy: DEFAULT_OUTBOUND_POLICY });
    expect(await response.text()).toBe('first');
    await agent.close();
    expect(seen['first/landed']).toMatchObject(sent);
  });
});
