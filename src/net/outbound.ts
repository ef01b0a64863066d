/**
 * The one outbound-request guard (security issue): every feature that calls out — monitors, webhooks,
 * remediation actions, SMTP — resolves names through it, checks every resolved address against the
 * policy, connects to that checked address (pinned: no second lookup an attacker could answer
 * differently), and re-checks each redirect hop. Link-local and cloud-metadata addresses and non-http(s)
 * schemes are refused by default; private ranges and loopback are allowed by default because
 * monitoring internal systems is the point, and an admin can restrict them.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { Agent, fetch as undiciFetch, Headers, type RequestInit, type Response } from 'undici';

/** What outbound traffic may reach. */
export interface OutboundPolicy {
  /** 10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7 (default true). */
  allowPrivate: boolean;
  /** 127/8, ::1 (default true). */
  allowLoopback: boolean;
  /** Extra CIDRs refused, checked before anything is allowed. */
  deny: string[];
  /** CIDRs allowed even if a rule above would refuse them (never link-local metadata). */
  allow: string[];
}

/** The default policy: internal systems reachable, metadata and link-local not. */
export const DEFAULT_OUTBOUND_POLICY: OutboundPolicy = { allowPrivate: true, allowLoopback: true, deny: [], allow: [] };

/** An outbound request the policy refuses; the message says which address and why. */
export class OutboundBlockedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OutboundBlockedError';
  }
}

function blockList(cidrs: readonly string[]): BlockList {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [address, prefix] = cidr.split('/');
    const family = isIP(address ?? '') === 6 ? 'ipv6' : 'ipv4';
    if (prefix === undefined) list.addAddress(address!, family);
    else list.addSubnet(address!, Number(prefix), family);
  }
  return list;
}

// Always refused: link-local (where cloud metadata lives), "this network", multicast, broadcast, and
// the IPv6 metadata address some clouds use.
const ALWAYS_DENIED = blockList(['169.254.0.0/16', '0.0.0.0/8', '224.0.0.0/4', '255.255.255.255/32', 'fe80::/10', 'ff00::/8', 'fd00:ec2::254/128', '::/128']);
const PRIVATE = blockList(['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', 'fc00::/7']);
const LOOPBACK = blockList(['127.0.0.0/8', '::1/128']);

/** Parses an IPv6 address (zone dropped, trailing dotted quad allowed) into its 16 bytes, or undefined. */
function ipv6Bytes(address: string): number[] | undefined {
  let text = address.split('%')[0]!;
  if (isIP(text) !== 6) return undefined;
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (quad) {
    const [a, b, c, d] = quad.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, quad.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const groups = (part: string | undefined) => (part ? part.split(':').map((g) => parseInt(g, 16)) : []);
  const h = groups(head);
  const t = groups(tail);
  const all = tail === undefined ? h : [...h, ...Array<number>(8 - h.length - t.length).fill(0), ...t];
  return all.flatMap((g) => [g >> 8, g & 0xff]);
}

/**
 * The IPv4 addresses an IPv6 address carries, which the network may deliver to: IPv4-compatible
 * `::a.b.c.d` (not `::` and `::1`, IPv6's own), IPv4-mapped `::ffff:a.b.c.d`, SIIT `::ffff:0:a.b.c.d`,
 * NAT64 `64:ff9b::/96` and the local-use `64:ff9b:1::/48` (every RFC 6052 layout whose suffix is
 * zero, and the /96 one), 6to4 `2002::/16`, and the Teredo client (`2001::/32`, stored inverted).
 * Without this, `::7f00:1` or `64:ff9b::a9fe:a9fe` would slip past rules written for IPv4.
 */
export function embeddedIpv4(address: string): string[] {
  const b = ipv6Bytes(address);
  if (!b) return [];
  const zero = (from: number, to: number) => b.slice(from, to).every((x) => x === 0);
  const quad = (...i: number[]) => i.map((k) => b[k]).join('.');
  const out: string[] = [];
  if (zero(0, 12) && !(zero(12, 15) && b[15]! <= 1)) out.push(quad(12, 13, 14, 15));
  if (zero(0, 10) && b[10] === 0xff && b[11] === 0xff) out.push(quad(12, 13, 14, 15));
  if (zero(0, 8) && b[8] === 0xff && b[9] === 0xff && zero(10, 12)) out.push(quad(12, 13, 14, 15));
  const nat64 = b[0] === 0 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b;
  if (nat64 && zero(4, 12)) out.push(quad(12, 13, 14, 15));
  if (nat64 && b[4] === 0 && b[5] === 1) {
    // Local-use NAT64: the operator picks the prefix length, so every layout that fits is judged.
    out.push(quad(12, 13, 14, 15));
    if (b[8] === 0) {
      if (zero(11, 16)) out.push(quad(6, 7, 9, 10));
      if (zero(12, 16)) out.push(quad(7, 9, 10, 11));
      if (zero(13, 16)) out.push(quad(9, 10, 11, 12));
    }
  }
  if (b[0] === 0x20 && b[1] === 0x02) out.push(quad(2, 3, 4, 5));
  if (b[0] === 0x20 && b[1] === 0x01 && zero(2, 4)) out.push([12, 13, 14, 15].map((k) => b[k]! ^ 0xff).join('.'));
  return [...new Set(out)];
}

/** Why one address (of one family) is refused, as a predicate such as "is loopback, …", or undefined. */
function judge(ip: string, type: 'ipv4' | 'ipv6', policy: OutboundPolicy): string | undefined {
  if (ALWAYS_DENIED.check(ip, type)) return 'is link-local, metadata, multicast or unspecified';
  if (policy.deny.length && blockList(policy.deny).check(ip, type)) return 'is in a denied range';
  if (policy.allow.length && blockList(policy.allow).check(ip, type)) return undefined;
  if (!policy.allowLoopback && LOOPBACK.check(ip, type)) return 'is loopback, which the outbound policy refuses';
  if (!policy.allowPrivate && PRIVATE.check(ip, type)) return 'is a private address, which the outbound policy refuses';
  return undefined;
}

/** Why an address is refused under the policy, or undefined when it is allowed. */
export function refusal(address: string, policy: OutboundPolicy): string | undefined {
  const family = isIP(address);
  if (family === 0) return `"${address}" is not an IP address`;
  if (family === 6) {
    // An IPv6 form of an IPv4 address is judged by the IPv4 rules as well as the IPv6 ones.
    for (const v4 of embeddedIpv4(address)) {
      const why = judge(v4, 'ipv4', policy);
      if (why) return `${address} carries the IPv4 address ${v4}, which ${why}`;
    }
  }
  const why = judge(address.split('%')[0]!, family === 6 ? 'ipv6' : 'ipv4', policy);
  return why ? `${address} ${why}` : undefined;
}

/**
 * Refuses `host` when any of the addresses it resolved to is refused: the one decision every outbound
 * request and every DNS check shares. A name that resolves to any refused address is refused whole,
 * since rebinding tricks mix good and bad answers.
 */
export function assertAddressesAllowed(host: string, addresses: readonly string[], policy: OutboundPolicy): void {
  if (addresses.length === 0) throw new OutboundBlockedError(`${host} did not resolve`);
  for (const a of addresses) {
    const why = refusal(a, policy);
    if (why) throw new OutboundBlockedError(host === a ? why : `${host}: ${why}`);
  }
}

/** Resolves a host name and returns the first address the policy allows; refuses if any resolved address is refused. */
export async function resolveAllowed(host: string, policy: OutboundPolicy): Promise<{ address: string; family: 4 | 6 }> {
  const bare = host.replace(/^\[|\]$/g, '');
  const literal = isIP(bare);
  const addresses = literal ? [{ address: bare, family: literal as 4 | 6 }] : ((await dnsLookup(bare, { all: true, verbatim: true })) as { address: string; family: 4 | 6 }[]);
  assertAddressesAllowed(host, addresses.map((a) => a.address), policy);
  return addresses[0]!;
}

/** A `lookup` for net/tls connections that only ever yields addresses the policy allows. */
export function guardedLookup(policy: OutboundPolicy): LookupFunction {
  return ((hostname: string, options: { all?: boolean }, callback: (err: Error | null, address: string | { address: string; family: number }[], family?: number) => void) => {
    resolveAllowed(hostname, policy).then(
      (a) => (options?.all ? callback(null, [{ address: a.address, family: a.family }]) : callback(null, a.address, a.family)),
      (err: Error) => callback(err, '', 0),
    );
  }) as LookupFunction;
}

/** Checks a URL's scheme and, for an IP literal host, its address (names are checked at connect time). */
export function checkUrl(url: URL, policy: OutboundPolicy): void {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new OutboundBlockedError(`scheme ${url.protocol} is not allowed: use http or https`);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host)) {
    const why = refusal(host, policy);
    if (why) throw new OutboundBlockedError(why);
  }
}

/** Options of {@link guardedFetch}. */
export interface GuardedFetchOptions {
  policy: OutboundPolicy;
  maxRedirects?: number;
  /** Accept self-signed or expired certificates (a monitor that only checks reachability). */
  insecureTls?: boolean;
  /** Extra connect options, e.g. a TLS servername or a CA. */
  timeoutMs?: number;
}

/** A response with the chain of URLs it took to get there. */
export interface GuardedResponse {
  response: Response;
  redirects: string[];
  agent: Agent;
}

/**
 * Header names that carry credentials: `Authorization`, `Proxy-Authorization`, `Cookie`, and any name
 * that looks secret (token, key, secret, auth, session, password, credential).
 */
export function isCredentialHeader(name: string): boolean {
  return /^(proxy-authorization|cookie)$|token|key|secret|auth|session|passw|pwd|credential/i.test(name);
}

// Headers that describe a request body, dropped with the body when a redirect turns the request into a GET.
const BODY_HEADERS = ['content-type', 'content-length', 'content-encoding', 'content-language', 'content-location'];

/**
 * fetch through the guard: every hop's scheme and addresses are checked, connections use the checked
 * address, and redirects are followed by hand (re-checked) up to `maxRedirects`. Once a redirect
 * leaves the first URL's origin, credential headers ({@link isCredentialHeader}) are dropped for the
 * rest of the chain, as browsers and fetch do, so a monitored site cannot forward a monitor's
 * credentials to another origin. Close the returned agent when done with the body.
 */
export async function guardedFetch(input: string | URL, init: RequestInit, opts: GuardedFetchOptions): Promise<GuardedResponse> {
  const agent = new Agent({
    connect: { lookup: guardedLookup(opts.policy), rejectUnauthorized: !opts.insecureTls, timeout: opts.timeoutMs },
    headersTimeout: opts.timeoutMs,
    bodyTimeout: opts.timeoutMs,
  });
  const redirects: string[] = [];
  let url = new URL(input);
  const origin = url.origin;
  const headers = new Headers(init.headers);
  let method = init.method ?? 'GET';
  let body = init.body;
  try {
    for (let hop = 0; ; hop++) {
      checkUrl(url, opts.policy);
      const response = await undiciFetch(url, { ...init, headers, method, body, redirect: 'manual', dispatcher: agent });
      const location = response.headers.get('location');
      if (response.status >= 300 && response.status < 400 && location) {
        if (hop >= (opts.maxRedirects ?? 5)) return { response, redirects, agent };
        await response.body?.cancel();
        url = new URL(location, url);
        redirects.push(url.toString());
        if (url.origin !== origin) for (const name of [...headers.keys()]) if (isCredentialHeader(name)) headers.delete(name);
        // 303 (and 301/302 after POST, as browsers do) turn into GET without a body.
        if (response.status === 303 || ((response.status === 301 || response.status === 302) && method === 'POST')) {
          method = 'GET';
          body = undefined;
          for (const name of BODY_HEADERS) headers.delete(name);
        }
        continue;
      }
      return { response, redirects, agent };
    }
  } catch (err) {
    await agent.close();
    throw err;
  }
}

/** Reads at most `max` bytes of a response body as text and stops the rest (a huge answer costs nothing). */
export async function readBounded(stream: ReadableStream<Uint8Array> | null, max: number): Promise<string> {
  if (!stream) return '';
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < max) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).subarray(0, max).toString('utf8');
}
