/**
 * TCP port checks: up when a connection to the checked address opens within the time-out.
 */
import { connectGuarded } from './socket.ts';
import { down, errorMessage, noPhases, round, type CheckContext, type CheckResult } from './result.ts';
import type { TcpSpec } from './spec.ts';

/** Checks that a TCP port accepts connections. */
export async function checkTcp(spec: TcpSpec, ctx: CheckContext): Promise<CheckResult> {
  const started = performance.now();
  try {
    const c = await connectGuarded(spec.host, spec.port, ctx.policy, ctx.timeoutMs);
    c.socket.destroy();
    return {
      ok: true,
      status: 'up',
      latencyMs: round(performance.now() - started),
      phases: { ...noPhases(), dnsMs: c.dnsMs, connectMs: c.connectMs },
      details: { address: c.address, port: spec.port },
    };
  } catch (err) {
    return down(performance.now() - started, errorMessage(err), noPhases(), { host: spec.host, port: spec.port });
  }
}
