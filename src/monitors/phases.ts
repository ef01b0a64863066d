/**
 * Phase timings of HTTP checks. guardedFetch owns its connections, so the timings are observed from
 * Node's and undici's diagnostics channels; an AsyncLocalStorage ties each event to the check that
 * caused it, which stays correct with a thousand checks in flight.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import dc from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import type { PeerCertificate, TLSSocket } from 'node:tls';

/** Timestamps (performance.now) of one check's first connection, and the server certificate. */
export interface PhaseRecorder {
  beforeConnectAt?: number;
  socketAt?: number;
  lookupAt?: number;
  connectAt?: number;
  secureAt?: number;
  headersAt?: number;
  certificate?: PeerCertificate;
}

const storage = new AsyncLocalStorage<PhaseRecorder>();
let subscribed = false;

function subscribe(): void {
  if (subscribed) return;
  subscribed = true;
  dc.subscribe('net.client.socket', (message) => {
    const rec = storage.getStore();
    // Only the first connection of a check is timed (redirect hops reuse or add connections).
    if (!rec || rec.socketAt !== undefined) return;
    const socket = (message as { socket: Socket }).socket;
    rec.socketAt = performance.now();
    socket.once('lookup', () => (rec.lookupAt ??= performance.now()));
    socket.once('connect', () => (rec.connectAt ??= performance.now()));
    socket.once('secureConnect', () => {
      rec.secureAt ??= performance.now();
      rec.certificate ??= (socket as TLSSocket).getPeerCertificate();
    });
  });
  dc.subscribe('undici:client:beforeConnect', () => {
    const rec = storage.getStore();
    if (rec) rec.beforeConnectAt ??= performance.now();
  });
  dc.subscribe('undici:client:connected', (message) => {
    const rec = storage.getStore();
    const socket = (message as { socket: Socket & Partial<TLSSocket> }).socket;
    // TLS sockets are made by tls.connect, which publishes no net.client.socket event: their TCP and
    // TLS phases cannot be told apart, so connect time covers both and the certificate is read here.
    if (rec && !rec.certificate && typeof socket.getPeerCertificate === 'function') rec.certificate = socket.getPeerCertificate();
    if (rec) rec.connectAt ??= performance.now();
  });
  dc.subscribe('undici:request:headers', () => {
    const rec = storage.getStore();
    if (rec) rec.headersAt ??= performance.now();
  });
}

/** Runs `fn` recording the phases of the connections it opens. */
export function recordPhases<T>(fn: () => Promise<T>): { recorder: PhaseRecorder; result: Promise<T> } {
  subscribe();
  const recorder: PhaseRecorder = {};
  return { recorder, result: storage.run(recorder, fn) };
}
