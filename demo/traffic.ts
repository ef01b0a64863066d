/**
 * Traffic generator: simulated students, instructors, admins and royalty analysts walking through the LMS and RMS
 * workflows at a configurable rate (Poisson arrivals), with a low rate of ordinary user errors (wrong passwords,
 * invalid payloads). It is a plain client and sends no telemetry of its own.
 *
 * As a child of the supervisor it reads RMS_URL, LMS_URL and TRAFFIC_RATE (workflows/s) and answers `status` over IPC.
 */
import { pathToFileURL } from 'node:url';
import { person, PEOPLE_COUNT } from './lms/people.ts';
import { between, pick, rng, sleep } from './random.ts';

/** Counters per step: how many calls, by HTTP status ('ERR' for network errors), total latency. */
export interface StepStats {
  count: number;
  byStatus: Record<string, number>;
  totalMs: number;
  maxMs: number;
}

/** Options of {@link runTraffic}. */
export interface TrafficOptions {
  rmsUrl: string;
  lmsUrl: string;
  /** Workflows per second, all kinds together. */
  rate: number;
  /** Upper bound of concurrently running workflows, so a slow system is not buried. */
  maxInFlight?: number;
  seed?: number;
}

const COURSES = 300;
const HOLDERS = 1200;
const WORKS = 3000;
const SOURCES = ['Spotify', 'Apple Music', 'YouTube', 'Deezer', 'Tidal', 'BBC Radio'];
const TERRITORIES = ['US', 'GB', 'DE', 'FR', 'JP', 'BR', 'CA', 'AU', 'SE', 'NL'];
const QUERIES = ['', 'Intro', 'Advanced', 'Physics', 'Law', 'Music', 'Data', 'Ethics', 'History'];

/** Runs traffic until `stop()`; `stats()` returns counters so far. */
export function runTraffic(opts: TrafficOptions) {
  const r = rng(opts.seed ?? Date.now() % 1e9);
  const stats = new Map<string, StepStats>();
  let rate = opts.rate;
  let running = true;
  let inFlight = 0;
  const started = Date.now();
  let workflows = 0;
  let skipped = 0;

  async function call(step: string, base: string, method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: Record<string, unknown> }> {
    const t0 = performance.now();
    let status = 'ERR';
    try {
      const headers: Record<string, string> = { 'user-agent': 'vigil-demo-traffic/1.0' };
      if (body !== undefined) headers['content-type'] = 'application/json';
      if (token) headers.authorization = `Bearer ${token}`;
      const res = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(15_000) });
      status = String(res.status);
      const text = await res.text();
      return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
    } catch {
      return { status: 0, body: {} };
    } finally {
      const ms = performance.now() - t0;
      const s = stats.get(step) ?? { count: 0, byStatus: {}, totalMs: 0, maxMs: 0 };
      s.count++;
      s.byStatus[status] = (s.byStatus[status] ?? 0) + 1;
      s.totalMs += ms;
      s.maxMs = Math.max(s.maxMs, ms);
      stats.set(step, s);
    }
  }
  const think = () => sleep(50 + r() * 400);
  const recentPeriod = () => {
    const d = new Date(Date.UTC(2025, 11 - between(r, 0, 11), 1));
    return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
  };

  async function login(idRange: [number, number]) {
    const p = person(between(r, idRange[0], idRange[1]));
    const wrong = r() < 0.04;
    const res = await call('lms.login', opts.lmsUrl, 'POST', '/api/login', { email: p.email, password: wrong ? `${p.password}x` : p.password });
    return res.status === 200 ? String(res.body.token) : null;
  }

  const workflowsByWeight: [number, () => Promise<void>][] = [
    [
      0.36,
      async function student() {
        const token = await login([241, PEOPLE_COUNT]);
        if (!token) return;
        await think();
        await call('lms.catalog', opts.lmsUrl, 'GET', `/api/courses?q=${encodeURIComponent(pick(r, QUERIES))}&page=${between(r, 1, 3)}`, undefined, token);
        const courseId = between(r, 1, COURSES);
        await call('lms.course', opts.lmsUrl, 'GET', `/api/courses/${courseId}`, undefined, token);
        await think();
        const bad = r() < 0.03;
        const reg = await call('lms.register', opts.lmsUrl, 'POST', `/api/courses/${courseId}/registrations`, bad ? { userId: 'me' } : {}, token);
        if (reg.status !== 201 && reg.status !== 409) return;
        for (let i = between(r, 1, 3); i > 0; i--) {
          await think();
          const invalid = r() < 0.03;
          await call('lms.progress', opts.lmsUrl, 'PUT', `/api/courses/${courseId}/progress`, { lessonId: between(r, 1, 12), percent: invalid ? 150 : between(r, 5, 100) }, token);
        }
      },
    ],
    [
      0.08,
      async function instructor() {
        const token = await login([41, 240]);
        if (!token) return;
        await call('lms.catalog', opts.lmsUrl, 'GET', `/api/courses?page=${between(r, 1, 5)}`, undefined, token);
        await think();
        await call('lms.roster', opts.lmsUrl, 'GET', `/api/courses/${between(r, 1, COURSES)}/registrations`, undefined, token);
      },
    ],
    [
      0.04,
      async function admin() {
        const token = await login([1, 40]);
        if (!token) return;
        await think();
        await call('lms.register', opts.lmsUrl, 'POST', `/api/courses/${between(r, 1, COURSES)}/registrations`, { userId: between(r, 241, PEOPLE_COUNT) }, token);
      },
    ],
    [
      0.2,
      async function importUsage() {
        const invalid = r() < 0.03;
        const records = Array.from({ length: between(r, 10, 60) }, () => ({
          workId: between(r, 1, WORKS),
          territory: pick(r, TERRITORIES),
          units: between(r, 1, 3000),
          revenue: Math.round(r() * 1200) / 100,
        }));
        if (invalid) records[0] = { ...records[0]!, territory: 'USA', units: -5 };
        await call('rms.import', opts.rmsUrl, 'POST', '/api/usage-reports', { source: pick(r, SOURCES), period: recentPeriod(), records });
      },
    ],
    [
      0.12,
      async function calculate() {
        await call('rms.calculate', opts.rmsUrl, 'POST', '/api/royalties/calculate', { period: recentPeriod() });
      },
    ],
    [
      0.08,
      async function pay() {
        const period = recentPeriod();
        const calc = await call('rms.calculate', opts.rmsUrl, 'POST', '/api/royalties/calculate', { period });
        if (calc.status !== 200) return;
        await think();
        await call('rms.pay', opts.rmsUrl, 'POST', '/api/payments/batches', { period, limit: between(r, 2, 5) });
      },
    ],
    [
      0.12,
      async function statement() {
        const unknown = r() < 0.02;
        await call('rms.statement', opts.rmsUrl, 'GET', `/api/rights-holders/${unknown ? 99999 : between(r, 1, HOLDERS)}/statement?period=${recentPeriod()}`);
      },
    ],
  ];
  const totalWeight = workflowsByWeight.reduce((s, [w]) => s + w, 0);

  const loop = (async () => {
    while (running) {
      // Poisson arrivals: exponential gaps around 1/rate.
      await sleep(rate > 0 ? (-Math.log(1 - r()) / rate) * 1000 : 500);
      if (!running || rate <= 0) continue;
      if (inFlight >= (opts.maxInFlight ?? 24)) {
        skipped++;
        continue;
      }
      let x = r() * totalWeight;
      const wf = workflowsByWeight.find(([w]) => (x -= w) < 0)?.[1] ?? workflowsByWeight[0]![1];
      inFlight++;
      workflows++;
      void wf()
        .catch(() => undefined)
        .finally(() => inFlight--);
    }
  })();

  return {
    stats: () => ({ rate, workflows, skipped, inFlight, uptimeS: Math.round((Date.now() - started) / 1000), steps: Object.fromEntries(stats) }),
    setRate(n: number) {
      rate = n;
    },
    async stop() {
      running = false;
      await loop;
    },
  };
}

// Run as a process (child of the supervisor, or by hand).
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (!process.env.RMS_URL || !process.env.LMS_URL) throw new Error('set RMS_URL and LMS_URL');
  const t = runTraffic({ rmsUrl: process.env.RMS_URL, lmsUrl: process.env.LMS_URL, rate: Number(process.env.TRAFFIC_RATE ?? 4) });
  const shutdown = () => void t.stop().finally(() => process.exit(0));
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
  if (process.send) {
    process.on('disconnect', shutdown);
    process.on('message', (raw) => {
      const msg = raw as { id: number; type: string; rate?: number };
      if (msg.type === 'rate' && typeof msg.rate === 'number') t.setRate(msg.rate);
      if (msg.type === 'shutdown') shutdown();
      process.send?.({ type: 'reply', id: msg.id, ok: true, result: t.stats() });
    });
    process.send({ type: 'ready', port: 0, version: '1' });
  }
}
