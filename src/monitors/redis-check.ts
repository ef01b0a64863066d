/**
 * Redis checks over the wire protocol (no client library): optional `AUTH`, then `PING`, expecting
 * `+PONG`. Replies are RESP simple strings or errors, one line each.
 */
import { connectGuarded, readUntil } from './socket.ts';
import { down, errorMessage, noPhases, round, type CheckContext, type CheckResult } from './result.ts';
import type { RedisSpec } from './spec.ts';

/** Encodes a command as a RESP array of bulk strings. */
export function respCommand(...args: string[]): string {
  return `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
}

/** The first complete reply line, or undefined while incomplete. */
export function respLine(buf: Buffer): string | undefined {
  const i = buf.indexOf('\r\n');
  return i < 0 ? undefined : buf.subarray(0, i).toString('utf8');
}

/** Sends PING (after AUTH when a password is set) and expects PONG. */
export async function checkRedis(spec: RedisSpec, ctx: CheckContext): Promise<CheckResult> {
  const started = performance.now();
  let c;
  try {
    c = await connectGuarded(spec.host, spec.port, ctx.policy, ctx.timeoutMs);
    const budget = () => ctx.timeoutMs - (performance.now() - started);
    if (spec.password !== undefined) {
      c.socket.write(respCommand('AUTH', spec.password));
      const auth = await readUntil(c.socket, budget(), respLine);
      if (!auth.startsWith('+')) throw new Error(`AUTH refused: ${auth.replace(/^-/, '')}`);
    }
    const q0 = performance.now();
    c.socket.write('PING\r\n');
    const reply = await readUntil(c.socket, budget(), respLine);
    const firstByteMs = round(performance.now() - q0);
    if (reply !== '+PONG') throw new Error(`PING answered ${JSON.stringify(reply.slice(0, 200))}, expected +PONG`);
    return { ok: true, status: 'up', latencyMs: round(performance.now() - started), phases: { ...noPhases(), dnsMs: c.dnsMs, connectMs: c.connectMs, firstByteMs }, details: { address: c.address } };
  } catch (err) {
    return down(performance.now() - started, errorMessage(err), noPhases(), { host: spec.host, port: spec.port });
  } finally {
    c?.socket.destroy();
  }
}
