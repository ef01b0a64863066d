/**
 * DNS checks: resolve A or AAAA records with the system's lookup (which honours /etc/hosts, as the
 * monitored clients do) or CNAME records with the DNS resolver (node:dns), or ask the monitor's own
 * `server`; when configured, expect one answer to equal a value. They share the outbound policy's
 * decision with every other outbound request: a `server` must be an address the policy allows (the
 * system's resolvers are the host's own, as for every name Vigil resolves), and a name whose
 * addresses the policy refuses is refused, not reported. Names under `.invalid` fail at once without
 * a query, as RFC 6761 asks of resolver libraries.
 */
import { promises as dns } from 'node:dns';
import { assertAddressesAllowed, OutboundBlockedError, refusal, type OutboundPolicy } from '../net/outbound.ts';
import { assertResolvable, down, noPhases, round, type CheckContext, type CheckResult } from './result.ts';
import { parseDnsServer, type DnsSpec } from './spec.ts';

/** Asks for the records of a name; the answers of A and AAAA queries pass the outbound policy. */
async function resolveRecords(spec: DnsSpec, policy: OutboundPolicy, timeoutMs: number): Promise<string[]> {
  assertResolvable(spec.hostname);
  const server = spec.server === undefined ? undefined : parseDnsServer(spec.server);
  let resolver: dns.Resolver | undefined;
  if (server) {
    const why = refusal(server.address, policy);
    if (why) throw new OutboundBlockedError(`DNS server ${why}`);
    resolver = new dns.Resolver({ timeout: Math.max(100, timeoutMs), tries: 1 });
    resolver.setServers([server.address.includes(':') ? `[${server.address}]:${server.port}` : `${server.address}:${server.port}`]);
  }
  if (spec.recordType === 'CNAME') return (resolver ?? new dns.Resolver({ timeout: Math.max(100, timeoutMs), tries: 1 })).resolveCname(spec.hostname);
  const answers = resolver
    ? await (spec.recordType === 'A' ? resolver.resolve4(spec.hostname) : resolver.resolve6(spec.hostname))
    : (await dns.lookup(spec.hostname, { all: true, family: spec.recordType === 'A' ? 4 : 6 })).map((a) => a.address);
  assertAddressesAllowed(spec.hostname, answers, policy);
  return answers;
}

/** Resolves a name and judges the answers. */
export async function checkDns(spec: DnsSpec, ctx: CheckContext): Promise<CheckResult> {
  const started = performance.now();
  let answers: string[];
  let timer: NodeJS.Timeout | undefined;
  try {
    answers = await Promise.race([
      resolveRecords(spec, ctx.policy, ctx.timeoutMs),
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`DNS lookup timed out after ${ctx.timeoutMs} ms`)), ctx.timeoutMs))),
    ]);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const details = { hostname: spec.hostname, recordType: spec.recordType, ...(spec.server ? { server: spec.server } : {}) };
    return down(performance.now() - started, e.code ? `${e.code}: ${spec.recordType} ${spec.hostname} did not resolve` : e.message, noPhases(), details);
  } finally {
    clearTimeout(timer);
  }
  const ms = round(performance.now() - started);
  const phases = { ...noPhases(), dnsMs: ms };
  const details = { hostname: spec.hostname, recordType: spec.recordType, ...(spec.server ? { server: spec.server } : {}), answers };
  if (spec.expected !== undefined && !answers.some((a) => a.toLowerCase() === spec.expected!.toLowerCase())) {
    return down(ms, `${spec.recordType} ${spec.hostname} is ${answers.join(', ') || 'empty'}, expected ${spec.expected}`, phases, details);
  }
  return { ok: true, status: 'up', latencyMs: ms, phases, details };
}
