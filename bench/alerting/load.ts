/**
 * Background load of `npm run bench:alerting` (its own process, so it does not share the bench's event
 * loop): OTLP/HTTP protobuf spans and logs of other services (bench/ingest-data.ts's five) at a steady
 * rate, freshly timestamped, until SIGTERM; then one JSON line of what was sent.
 * Usage: node --import tsx bench/alerting/load.ts OTLP_URL TOKEN RECORDS_PER_SECOND
 */
import { makeBody } from '../ingest-data.ts';

const [url, token, rateArg] = process.argv.slice(2);
if (!url || !token) {
  process.stderr.write('usage: load.ts OTLP_URL TOKEN RECORDS_PER_SECOND\n');
  process.exit(2);
}
const rate = Number(rateArg ?? 3000);
const TICK_MS = 100;
// Half spans, half logs, every tick.
const perTick = Math.max(1, Math.round((rate * TICK_MS) / 1000 / 2));
const MAX_IN_FLIGHT = 8;

let sent = 0;
let refused = 0;
let errors = 0;
let skipped = 0;
let inFlight = 0;
let seed = 0;
const acks: number[] = [];
const started = performance.now();

async function send(signal: 'logs' | 'traces'): Promise<void> {
  const body = makeBody(signal, perTick, seed++);
  inFlight++;
  const t0 = performance.now();
  try {
    const res = await fetch(`${url}/v1/${signal}`, { method: 'POST', body, headers: { 'content-type': 'application/x-protobuf', authorization: `Bearer ${token}` } });
    await res.arrayBuffer();
    if (res.status === 200) {
      sent += perTick;
      acks.push(performance.now() - t0);
    } else if (res.status === 429 || res.status === 503) refused++;
    else errors++;
  } catch {
    errors++;
  } finally {
    inFlight--;
  }
}

const timer = setInterval(() => {
  // A server that falls behind gets fewer requests, not an unbounded pile of them.
  if (inFlight >= MAX_IN_FLIGHT) {
    skipped++;
    return;
  }
  void send('traces');
  void send('logs');
}, TICK_MS);

process.on('SIGTERM', () => {
  clearInterval(timer);
  const seconds = (performance.now() - started) / 1000;
  acks.sort((a, b) => a - b);
  const q = (p: number) => acks[Math.min(acks.length - 1, Math.floor(p * acks.length))] ?? 0;
  process.stdout.write(`${JSON.stringify({ records: sent, seconds, perSecond: sent / seconds, ackP50: q(0.5), ackP99: q(0.99), refused, errors, skipped })}\n`);
  process.exit(0);
});
