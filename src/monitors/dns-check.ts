/**
 * DNS checks: resolve A or AAAA records with the system's lookup (which honours /etc/hosts, as the
 * monitored clients do) or CNAME records with the DNS resolver (node:dns), and when configured expect
 * one answer to equal a value. Names under `.invalid` fail at once without a query, as RFC 6761 asks
 * of resolver libraries.
 */
import { promises as dns } from 'node:dns';
import { assertResolvable, down, noPhases, round, type CheckContext, type CheckResult } from './result.ts';
import type { DnsSpec } from './spec.ts';

/** Asks for the records of a name; separate so tests can see what is asked. */
async function resolveRecords(hostname: string, type: DnsSpec['recordType'], timeoutMs: number): Promise<string[]> {
  assertResolvable(hostname);
  if (type === 'CNAME') {
    const resolver = new dns.Resolver({ timeout: Math.max(100, timeoutMs), tries: 1 });
    return resolver.resolveCname(hostname);
  }
  const answers = await dns.lookup(hostname, { all: true, family: type === 'A' ? 4 : 6 });
  return answers.map((a) => a.address);
}

/** Resolves a name and judges the answers. */
export async function checkDns(spec: DnsSpec, ctx: CheckContext): Promise<CheckResult> {
  const started = performance.now();
  let answers: string[];
  let timer: NodeJS.Timeout | undefined;
  try {
    answers = await Promise.race([
      resolveRecords(spec.hostname, spec.recordType, ctx.timeoutMs),
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`DNS lookup timed out after ${ctx.timeoutMs} ms`)), ctx.timeoutMs))),
    ]);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return down(performance.now() - started, e.code ? `${e.code}: ${spec.recordType} ${spec.hostname} did not resolve` : e.message, noPhases(), { hostname: spec.hostname, recordType: spec.recordType });
  } finally {
    clearTimeout(timer);
  }
  const ms = round(performance.now() - started);
  const phases = { ...noPhases(), dnsMs: ms };
  const details = { hostname: spec.hostname, recordType: spec.recordType, answers };
  if (spec.expected !== undefined && !answers.some((a) => a.toLowerCase() === spec.expected!.toLowerCase())) {
    return down(ms, `${spec.recordType} ${spec.hostname} is ${answers.join(', ') || 'empty'}, expected ${spec.expected}`, phases, details);
  }
  return { ok: true, status: 'up', latencyMs: ms, phases, details };
}
