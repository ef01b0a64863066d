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
import { Agent, fetch as undiciFetch, type RequestInit, type Response } from 'undici';

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

/** Why an address is refused under the policy, or undefined when it is allowed. */
export function refusal(address: string, policy: OutboundPolicy): string | undefined {
  let ip = address;
  // IPv4-mapped IPv6 (::ffff:169.254.169.254) is judged as the IPv4 address it carries.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) ip = mapped[1]!;
  const family = isIP(ip);
  if (family === 0) return `"${address}" is not an IP address`;
  const type = family === 6 ? 'ipv6' : 'ipv4';
  if (ALWAYS_DENIED.check(ip, type)) return `${address} is link-local, metadata, multicast or unspecified`;
  if (policy.deny.length && blockList(policy.deny).check(ip, type)) return `${address} is in a denied range`;
  if (policy.allow.length && blockList(policy.allow).check(ip, type)) return undefined;
  if (!policy.allowLoopback && LOOPBACK.check(ip, type)) return `${address} is loopback, which the outbound policy refuses`;
  if (!policy.allowPrivate && PRIVATE.check(ip, type)) return `${address} is a private address, which the outbound policy refuses`;
  return undefined;
}

/** Resolves a host name and returns the first address the policy allows; refuses if any resolved address is refused. */
export async function resolveAllowed(host: string, policy: OutboundPolicy): Promise<{ address: string; family: 4 | 6 }> {
  const bare = host.replace(/^\[|\]$/g, '');
  const literal = isIP(bare);
  const addresses = literal ? [{ address: bare, family: literal as 4 | 6 }] : ((await dnsLookup(bare, { all: true, verbatim: true })) as { address: string; family: 4 | 6 }[]);
  if (addresses.length === 0) throw new OutboundBlockedError(`${host} did not resolve`);
  // A name that resolves to any refused address is refused whole: rebinding tricks mix good and bad answers.
  for (const a of addresses) {
    const why = refusal(a.address, policy);
    if (why) throw new OutboundBlockedError(`${host}: ${why}`);
  }
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
 * fetch through the guard: every hop's scheme and addresses are checked, connections use the checked
 * address, and redirects are followed by hand (re-checked) up to `maxRedirects`. Close the returned
 * agent when done with the body.
 */
export async function guardedFetch(input: string | URL, init: RequestInit, opts: GuardedFetchOptions): Promise<GuardedResponse> {
  const agent = new Agent({
    connect: { lookup: guardedLookup(opts.policy), rejectUnauthorized: !opts.insecureTls, timeout: opts.timeoutMs },
    headersTimeout: opts.timeoutMs,
    bodyTimeout: opts.timeoutMs,
  });
  const redirects: string[] = [];
  let url = new URL(input);
  let method = init.method ?? 'GET';
  let body = init.body;
  try {
    for (let hop = 0; ; hop++) {
      checkUrl(url, opts.policy);
      const response = await undiciFetch(url, { ...init, method, body, redirect: 'manual', dispatcher: agent });
      const location = response.headers.get('location');
      if (response.status >= 300 && response.status < 400 && location) {
        if (hop >= (opts.maxRedirects ?? 5)) return { response, redirects, agent };
        await response.body?.cancel();
        url = new URL(location, url);
        redirects.push(url.toString());
        // 303 (and 301/302 after POST, as browsers do) turn into GET without a body.
        if (response.status === 303 || ((response.status === 301 || response.status === 302) && method === 'POST')) {
          method = 'GET';
          body = undefined;
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
