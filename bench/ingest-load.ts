/**
 * Load process of `npm run bench:ingest`: sends pre-encoded OTLP protobuf batches to a Vigil over
 * loopback from a few concurrent senders for a fixed time, and prints one JSON line of results.
 * Usage: node --import tsx bench/ingest-load.ts URL TOKEN logs|traces SECONDS BATCH CONCURRENCY
 */
import { makeBody } from './ingest-data.ts';

const [url, token, signal, secondsArg, batchArg, concurrencyArg] = process.argv.slice(2);
if (!url || !token || (signal !== 'logs' && signal !== 'traces')) {
  process.stderr.write('usage: ingest-load.ts URL TOKEN logs|traces SECONDS BATCH CONCURRENCY\n');
  process.exit(2);
}
const seconds = Number(secondsArg ?? 20);
const batch = Number(batchArg ?? 1000);
const concurrency = Number(concurrencyArg ?? 6);

const bodies = Array.from({ length: 40 }, (_, i) => makeBody(signal, batch, i));
const latencies: number[] = [];
let records = 0;
let refused = 0;
let errors = 0;
const deadline = performance.now() + seconds * 1000;
const started = performance.now();

await Promise.all(
  Array.from({ length: concurrency }, async (_, s) => {
    let n = s;
    while (performance.now() < deadline) {
      const body = bodies[n++ % bodies.length]!;
      const t0 = performance.now();
      const res = await fetch(`${url}/v1/${signal}`, { method: 'POST', body, headers: { 'content-type': 'application/x-protobuf', authorization: `Bearer ${token}` } });
      await res.arrayBuffer();
      if (res.status === 200) {
        latencies.push(performance.now() - t0);
        records += batch;
      } else if (res.status === 429 || res.status === 503) {
        refused++;
        await new Promise((r) => setTimeout(r, 100));
      } else errors++;
    }
  }),
);
const elapsed = (performance.now() - started) / 1000;
latencies.sort((a, b) => a - b);
const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
process.stdout.write(`${JSON.stringify({ signal, records, seconds: elapsed, perSecond: records / elapsed, p50: q(0.5), p99: q(0.99), refused, errors, requests: latencies.length })}\n`);
