/**
 * A real HTTP receiver on loopback for notification tests: records every request (method, path,
 * headers, parsed JSON body) and answers with scripted statuses (then 200).
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the receiver got. */
export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: unknown;
  at: number;
}

/** A running receiver. */
export interface TestReceiver {
  url: string;
  requests: ReceivedRequest[];
  /** Statuses to answer next, in order; 200 once used up. */
  script: number[];
  /** Resolves once `n` requests arrived (or rejects after `ms`). */
  waitFor(n: number, ms?: number): Promise<ReceivedRequest[]>;
  close(): Promise<void>;
}

/** Starts a receiver on 127.0.0.1 with an ephemeral port. */
export async function startReceiver(script: number[] = []): Promise<TestReceiver> {
  const requests: ReceivedRequest[] = [];
  const waiters: (() => void)[] = [];
  const r: Partial<TestReceiver> = { requests, script };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // not JSON: kept as text
      }
      requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, at: Date.now() });
      const status = r.script!.length ? r.script!.shift()! : 200;
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : `failure ${status}`);
      for (const w of waiters.splice(0)) w();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  r.url = `http://127.0.0.1:${port}`;
  r.waitFor = async (n, ms = 10_000) => {
    const deadline = Date.now() + ms;
    while (requests.length < n) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`expected ${n} requests, got ${requests.length}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        waiters.push(() => (clearTimeout(t), resolve()));
      });
    }
    return requests;
  };
  r.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return r as TestReceiver;
}
