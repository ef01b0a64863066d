/**
 * A TCP connection through the outbound guard, with its phase timings: the host is resolved and
 * checked by `resolveAllowed`, and the socket connects to that checked address.
 */
import net from 'node:net';
import { resolveAllowed, type OutboundPolicy } from '../net/outbound.ts';
import { assertResolvable, round } from './result.ts';

/** An open, guarded connection. */
export interface GuardedSocket {
  socket: net.Socket;
  address: string;
  dnsMs: number;
  connectMs: number;
}

/** Resolves through the guard and connects; rejects on refusal, DNS failure, connection error or time-out. */
export async function connectGuarded(host: string, port: number, policy: OutboundPolicy, timeoutMs: number): Promise<GuardedSocket> {
  const t0 = performance.now();
  assertResolvable(host);
  const { address } = await resolveAllowed(host, policy);
  const t1 = performance.now();
  const socket = await new Promise<net.Socket>((resolve, reject) => {
    const s = net.connect({ host: address, port });
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`connect to ${host}:${port} timed out after ${timeoutMs} ms`));
    }, Math.max(1, timeoutMs - (t1 - t0)));
    s.once('connect', () => {
      clearTimeout(timer);
      resolve(s);
    });
    s.once('error', (err) => {
      clearTimeout(timer);
      s.destroy();
      reject(err);
    });
  });
  return { socket, address, dnsMs: round(t1 - t0), connectMs: round(performance.now() - t1) };
}

/** Reads from a socket until `complete(buffer)` returns a value; rejects on close, error or time-out. */
export function readUntil<T>(socket: net.Socket, timeoutMs: number, complete: (buf: Buffer) => T | undefined): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const done = (err: Error | null, value?: T) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
      if (err) reject(err);
      else resolve(value as T);
    };
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      try {
        const v = complete(buf);
        if (v !== undefined) done(null, v);
      } catch (err) {
        done(err as Error);
      }
    };
    const onError = (err: Error) => done(err);
    const onClose = () => done(new Error('connection closed by the server'));
    const timer = setTimeout(() => done(new Error(`no answer within ${Math.round(timeoutMs)} ms`)), Math.max(1, timeoutMs));
    socket.on('data', onData);
    socket.once('error', onError);
    socket.once('close', onClose);
  });
}
