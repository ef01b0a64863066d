/**
 * bench:ui — first load of the overview page (goal ≤ 1 s on loopback) and drawing a 10k-point chart
 * (goal ≤ 200 ms), in Debian's chromium against an in-process Vigil holding three hours of RMS/LMS
 * telemetry sent with the OpenTelemetry SDK. Also times scrolling a 10,000-row log list.
 *
 *   npm run bench:ui            (results also go to stdout as a Markdown table for docs/benchmarks.md)
 */
import { startTestVigil } from '../test/helpers/vigil.ts';
import { ensureWebBuilt, launchBrowser, seedTelemetry, signIn, waitForSpans } from '../test/helpers/ui.ts';

const RUNS = 5;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

ensureWebBuilt();
const v = await startTestVigil();
const base = v.server.urls.api;
await v.server.users.create({ username: 'bench', password: 'bench-password-1', role: 'admin' });
const traces = 20_000;
let t0 = Date.now();
await seedTelemetry(v, { traces, minutes: 180 });
await waitForSpans(v, traces * 4, 120_000);
console.log(`seeded ${traces} traces (${traces * 4} spans, ${traces} logs) over 3 h in ${Date.now() - t0} ms`);

const browser = await launchBrowser();
// bypassCSP only lets the measuring snippets below run (waitForFunction evaluates strings); the app runs as always.
const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 }, bypassCSP: true });
const login = await ctx.newPage();
await login.goto(`${base}/login`);
await signIn(login, 'bench', 'bench-password-1');
await login.waitForURL(`${base}/`);
await login.close();

// 1. Overview, first load: a fresh page (no cache) until every tile shows its figures and sparklines.
const overview: number[] = [];
for (let i = 0; i < RUNS; i++) {
  const page = await ctx.newPage();
  const start = Date.now();
  await page.goto(`${base}/?since=1h`, { waitUntil: 'commit' });
  await page.waitForFunction("document.querySelectorAll('[data-testid=system-tile]').length === 2 && [...document.querySelectorAll('.tile dd')].filter((d) => /ms$/.test(d.textContent)).length === 2 && document.querySelectorAll('.spark path').length >= 6", undefined, { timeout: 30_000, polling: 10 });
  overview.push(Date.now() - start);
  await page.close();
}

// 2. A 10k+-point chart: a per-second timechart (two series) over ~3 hours of spans, drawn by uPlot.
const to = Date.now();
const from = to - 170 * 60_000;
const chart: number[] = [];
const chartE2e: number[] = [];
let points = 0;
for (let i = 0; i < RUNS; i++) {
  const page = await ctx.newPage();
  const start = Date.now();
  await page.goto(`${base}/logs?from=${from}&to=${to}&q=${encodeURIComponent('from spans | timechart span=1s count() p95(duration_ms)')}`);
  await page.waitForSelector('.aggregate .chart[data-draw-ms]', { timeout: 60_000 });
  chartE2e.push(Date.now() - start);
  const attrs = (await page.evaluate("(() => { const el = document.querySelector('.aggregate .chart'); return [el.dataset.drawMs, el.dataset.points]; })()")) as [string, string];
  chart.push(Number(attrs[0]));
  points = Number(attrs[1]);
  await page.close();
}

// 3. Scrolling a 10,000-row virtualised log list: frames while scrolling to the bottom.
const page = await ctx.newPage();
await page.goto(`${base}/logs?from=${from}&to=${to}&q=*`);
await page.waitForSelector('.event-line');
// Load pages until 10,000 rows are there (the list loads older rows as it nears the end).
await page.waitForFunction(
  `(() => { const el = document.querySelector('[data-testid=event-list]'); el.scrollTop = el.scrollHeight; return /^(1\\d(\\.\\d)?k|[2-9]\\d(\\.\\d)?k) /.test(document.querySelector('[data-testid=result-count]').textContent); })()`,
  undefined,
  { timeout: 90_000, polling: 300 },
);
const rows = await page.getByTestId('result-count').textContent();
const scroll = (await page.evaluate(`(async () => {
  const el = document.querySelector('[data-testid=event-list]');
  el.scrollTop = 0;
  await new Promise((r) => requestAnimationFrame(r));
  const frames = [];
  let last = performance.now();
  const steps = 200;
  for (let i = 1; i <= steps; i++) {
    el.scrollTop = (el.scrollHeight * i) / steps;
    await new Promise((r) => requestAnimationFrame(r));
    const now = performance.now();
    frames.push(now - last);
    last = now;
  }
  frames.sort((a, b) => a - b);
  return { median: frames[Math.floor(frames.length / 2)], p95: frames[Math.floor(frames.length * 0.95)], max: frames[frames.length - 1] };
})()`)) as { median: number; p95: number; max: number };

await browser.close();
await v.stop();

console.log('\n| measurement | median | runs | goal |');
console.log('|---|---|---|---|');
console.log(`| overview first load (page request → every tile with figures and sparklines) | ${median(overview)} ms | ${overview.join(', ')} ms | ≤ 1000 ms |`);
console.log(`| ${points.toLocaleString('en-US')}-point chart: uPlot build + first paint | ${median(chart).toFixed(1)} ms | ${chart.map((x) => x.toFixed(0)).join(', ')} ms | ≤ 200 ms |`);
console.log(`| same page end to end (load, query ${points.toLocaleString('en-US')} buckets, draw) | ${median(chartE2e)} ms | ${chartE2e.join(', ')} ms | — |`);
console.log(`| scrolling ${rows?.split(' ')[0]} log rows, frame time (200 jumps top → bottom) | ${scroll.median.toFixed(1)} ms | p95 ${scroll.p95.toFixed(1)} ms, max ${scroll.max.toFixed(1)} ms | 16.7 ms (60 fps) |`);
