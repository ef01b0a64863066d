/**
 * Traces end to end over hand-built OTLP/JSON spans with exact timings: the trace list API (pages
 * over the whole range with a cursor, newest first or by duration, the true total), and in a real
 * browser the critical path of a payment batch, the trace explorer's list and chart, and the time
 * range surviving navigation (sidebar, service → traces, a page opened without a range).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startTestVigil, type TestVigil } from './helpers/vigil.ts';
import { ensureWebBuilt, launchBrowser, OUTPUT, signIn, waitForSpans } from './helpers/ui.ts';

let v: TestVigil;
let readToken: string;
let browser: Browser;
let page: Page;
const PASSWORD = 'correct-horse-battery';

/** All list spans sit in the last 40 minutes; the batch trace 5 minutes ago. */
const NOW = Date.now();
const T0 = NOW - 40 * 60_000;
const LIST_SPANS = 130;
const BATCH_TRACE = 'ba7c0000000000000000000000000001';

interface HandSpan {
  service: string;
  traceId: string;
  spanId: string;
  parent?: string;
  name: string;
  kind?: 'server' | 'client' | 'internal';
  /** Milliseconds; fractions are kept down to the nanosecond. */
  startMs: number;
  endMs: number;
  error?: boolean;
}

const nsText = (ms: number) => (BigInt(Math.round(ms * 1000)) * 1000n).toString();
const hex = (n: number, chars: number) => n.toString(16).padStart(chars, '0');
const KIND = { internal: 1, server: 2, client: 3 } as const;

/** Sends spans through the OTLP/HTTP JSON receiver, grouped by service. */
async function sendSpans(spans: HandSpan[]): Promise<void> {
  const services = [...new Set(spans.map((s) => s.service))];
  const body = {
    resourceSpans: services.map((service) => ({
      resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
      scopeSpans: [
        {
          scope: { name: 'ui-traces-test' },
          spans: spans
            .filter((s) => s.service === service)
            .map((s) => ({
              traceId: s.traceId,
              spanId: s.spanId,
              parentSpanId: s.parent ?? '',
              name: s.name,
              kind: KIND[s.kind ?? 'internal'],
              startTimeUnixNano: nsText(s.startMs),
              endTimeUnixNano: nsText(s.endMs),
              status: { code: s.error ? 2 : 0 },
            })),
        },
      ],
    })),
  };
  const res = await fetch(`${v.server.urls.otlp}/v1/traces`, { method: 'POST', headers: { authorization: `Bearer ${v.ingestToken}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(res.status).toBe(200);
}

/**
 * `LIST_SPANS` server spans of `list-api` over 40 minutes, the first 40 sharing one timestamp (so a
 * page boundary falls among equal timestamps), durations i % 97 + 1 ms.
 */
function listSpans(): HandSpan[] {
  return Array.from({ length: LIST_SPANS }, (_, i) => {
    const start = i < 40 ? T0 + 1000.5 : T0 + 1000 + i * 15_000;
    return { service: 'list-api', traceId: hex(0x1000 + i, 32), spanId: hex(0x2000 + i, 16), name: 'GET /items', kind: 'server' as const, startMs: start, endMs: start + (i % 97) + 1, error: i % 10 === 3 };
  });
}

/**
 * A payment batch of 465 ms (as in the issue): 27 sequential charges under the root, each charging
 * through the bank in another service, then an 89 µs INSERT at the very end. A cache warm-up runs in
 * parallel with the first charges and ends before the second one starts, so it is waited on... not:
 * it overlaps charges 0–1 and is skipped; an audit call fires and forgets past the root's end.
 */
function batchTrace(): { spans: HandSpan[]; critical: string[] } {
  const t = NOW - 5 * 60_000;
  const id = (n: number) => hex(0xb000 + n, 16);
  const spans: HandSpan[] = [{ service: 'pay-batch', traceId: BATCH_TRACE, spanId: id(0), name: 'payment batch', kind: 'server', startMs: t, endMs: t + 465 }];
  const critical = [id(0)];
  for (let i = 0; i < 27; i++) {
    const s = t + 5 + i * 17;
    spans.push({ service: 'pay-batch', traceId: BATCH_TRACE, spanId: id(1 + i), parent: id(0), name: `charge ${i + 1}`, kind: 'client', startMs: s, endMs: s + 16 });
    critical.push(id(1 + i));
  }
  // The bank's server span for charge 27, its clock 2 ms fast: clamped into the charge, on the path.
  spans.push({ service: 'bank', traceId: BATCH_TRACE, spanId: id(40), parent: id(27), name: 'POST /charge', kind: 'server', startMs: t + 5 + 26 * 17 + 3, endMs: t + 5 + 26 * 17 + 18 });
  critical.push(id(40));
  spans.push({ service: 'pay-batch', traceId: BATCH_TRACE, spanId: id(41), parent: id(0), name: 'INSERT batch_result', kind: 'client', startMs: t + 464.5, endMs: t + 464.589 });
  critical.push(id(41));
  spans.push({ service: 'pay-batch', traceId: BATCH_TRACE, spanId: id(42), parent: id(0), name: 'warm cache', kind: 'internal', startMs: t + 2, endMs: t + 30 });
  spans.push({ service: 'pay-batch', traceId: BATCH_TRACE, spanId: id(43), parent: id(0), name: 'audit (async)', kind: 'client', startMs: t + 460, endMs: t + 900 });
  return { spans, critical };
}

const batch = batchTrace();

beforeAll(async () => {
  ensureWebBuilt();
  v = await startTestVigil();
  readToken = await v.server.tokens.create('test-read', 'read');
  await v.server.users.create({ username: 'alice', password: PASSWORD, role: 'admin' });
  await sendSpans([...listSpans(), ...batch.spans]);
  await waitForSpans(v, LIST_SPANS + batch.spans.length);
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await v?.stop();
});

interface ListPage {
  rows: { timestamp: string; span_id: string; duration_ms: number; trace_id: string; status: string }[];
  total: number | null;
  nextCursor: string | null;
}

async function list(params: Record<string, string>, status = 200): Promise<ListPage & { error?: string }> {
  const res = await fetch(`${v.server.urls.api}/api/v1/traces?${new URLSearchParams({ from: new Date(T0).toISOString(), to: new Date(NOW).toISOString(), ...params })}`, { headers: { authorization: `Bearer ${readToken}` } });
  expect(res.status).toBe(status);
  return (await res.json()) as ListPage & { error?: string };
}

/** Follows the cursor through every page. */
async function allPages(params: Record<string, string>): Promise<{ pages: ListPage[]; rows: ListPage['rows'] }> {
  const pages: ListPage[] = [];
  let cursor: string | null = null;
  do {
    const p: ListPage = await list({ ...params, ...(cursor ? { cursor } : {}) });
    pages.push(p);
    cursor = p.nextCursor;
  } while (cursor && pages.length < 50);
  return { pages, rows: pages.flatMap((p) => p.rows) };
}

/** Waits for what the page shows: a loaded machine with two cores can take seconds to render. */
const until = <T>(fn: () => Promise<T> | T) => expect.poll(fn, { timeout: 15_000, interval: 100 });

describe('trace list API', () => {
  const q = 'from spans service.name=list-api';

  it('pages newest first over the whole range, through spans sharing a timestamp, with the true total', async () => {
    const { pages, rows } = await allPages({ q, limit: '25' });
    expect({ pages: pages.length, rows: rows.length, ids: new Set(rows.map((r) => r.span_id)).size }).toEqual({ pages: Math.ceil(LIST_SPANS / 25), rows: LIST_SPANS, ids: LIST_SPANS });
    expect(pages[0]!.total).toBe(LIST_SPANS);
    expect(pages[1]!.total).toBeNull();
    expect(pages.at(-1)!.nextCursor).toBeNull();
    expect(new Set(rows.map((r) => r.span_id)).size).toBe(LIST_SPANS);
    const times = rows.map((r) => r.timestamp);
    expect(times).toEqual([...times].sort().reverse());
    // The 40 oldest spans share one instant and straddle two page boundaries; none is lost or repeated.
    expect(rows.slice(90).every((r) => r.timestamp === rows[90]!.timestamp)).toBe(true);
    // The cursor leaves out the internal columns.
    expect(Object.keys(rows[0]!).some((k) => k.startsWith('_cursor'))).toBe(false);
  });

  it('sorts by duration across pages, slowest or fastest first', async () => {
    const slow = (await allPages({ q, limit: '40', sort: '-duration_ms' })).rows.map((r) => r.duration_ms);
    expect(slow).toHaveLength(LIST_SPANS);
    expect(slow).toEqual([...slow].sort((a, b) => b - a));
    expect(slow[0]).toBe(97);
    const fast = (await allPages({ q, limit: '40', sort: 'duration_ms' })).rows.map((r) => r.duration_ms);
    expect(fast).toEqual([...fast].sort((a, b) => a - b));
    const oldest = (await list({ q, limit: '3', sort: 'timestamp' })).rows.map((r) => r.timestamp);
    expect(oldest).toEqual([...oldest].sort());
  });

  it('counts only what the filters match', async () => {
    const errors = await list({ q: `${q} status=error`, limit: '5' });
    expect(errors.total).toBe(13);
    expect(errors.rows.every((r) => r.status === 'Error')).toBe(true);
  });

  it('refuses bad parameters with a 400 naming them', async () => {
    expect((await list({ q, sort: 'name' }, 400)).error).toMatch(/^sort:/);
    expect((await list({ q, limit: '0' }, 400)).error).toMatch(/^limit:/);
    expect((await list({ q, cursor: 'not-a-cursor' }, 400)).error).toMatch(/^cursor:/);
    // A time cursor does not fit a duration order.
    const first = await list({ q, limit: '2' });
    expect((await list({ q, sort: '-duration_ms', cursor: first.nextCursor! }, 400)).error).toMatch(/^cursor:/);
    expect((await list({ q: `${q} | stats count()` }, 400)).error).toMatch(/span search/);
    const twice = await fetch(`${v.server.urls.api}/api/v1/traces?q=a&q=b`, { headers: { authorization: `Bearer ${readToken}` } });
    expect(twice.status).toBe(400);
    expect(((await twice.json()) as { error: string }).error).toMatch(/^q:/);
    expect((await list({ q: `${q} user="x'; DROP TABLE otel_traces; --"` })).total).toBe(0);
  });
});

describe('in the browser', () => {
  const base = () => v.server.urls.api;
  const shot = (name: string) => page.screenshot({ path: `${OUTPUT}/ui-traces-${name}.png`, fullPage: true });
  /** The preset the time picker shows as chosen. */
  const chosenPreset = () => page.getByRole('group', { name: 'time range presets' }).locator('button.on').textContent();

  beforeAll(async () => {
    browser = await launchBrowser();
    page = await (await browser.newContext({ viewport: { width: 1400, height: 900 } })).newPage();
    await page.goto(`${base()}/login`);
    await signIn(page, 'alice', PASSWORD);
    await page.waitForURL((u) => !u.pathname.startsWith('/login'));
  }, 60_000);

  it('highlights the whole critical path of a payment batch, with the time each span adds on it', async () => {
    await page.goto(`${base()}/traces/${BATCH_TRACE}`);
    const rows = page.getByTestId('span-row');
    await until(() => rows.count()).toBe(batch.spans.length);
    const critical = page.locator('.wf-row.critical');
    expect(await critical.count()).toBe(batch.critical.length);
    const names = await critical.locator('.wf-name').allTextContents();
    expect(names.some((n) => n.includes('INSERT batch_result'))).toBe(true);
    expect(names.filter((n) => /charge \d+/.test(n))).toHaveLength(27);
    expect(names.some((n) => n.includes('POST /charge'))).toBe(true);
    // Work the batch did not wait on: a warm-up overlapped by the first charges, a fire-and-forget audit.
    expect(names.some((n) => n.includes('warm cache') || n.includes('audit'))).toBe(false);
    await until(() => critical.filter({ hasText: 'INSERT batch_result' }).textContent()).toMatch(/on path/);
    await critical.filter({ hasText: 'INSERT batch_result' }).click();
    await until(() => page.getByRole('complementary', { name: 'span details' }).textContent()).toMatch(/Critical path\s*89\sµs \(0\.02\s%\sof the path\)/);
    await shot('critical-path');
    await page.getByLabel(/critical path only/).check();
    await until(() => rows.count()).toBe(batch.critical.length);
    expect(await page.getByText(`critical path only (${batch.critical.length} of ${batch.spans.length})`).count()).toBe(1);
  });

  it('lists spans newest first with the true total, loads more, and sorts by duration over all of them', async () => {
    await page.goto(`${base()}/traces?since=1h&service=list-api`);
    const count = page.getByTestId('trace-count');
    await until(() => count.textContent()).toBe(`100 of ${LIST_SPANS} matching spans`);
    const table = page.getByRole('table', { name: 'traces' });
    expect(await table.getByRole('columnheader', { name: /Time/ }).getAttribute('aria-sort')).toBe('descending');
    // Newest first: the first row is the newest span sent (T0 + 1000 + 129 × 15 s).
    const firstTime = await table.locator('tbody tr').first().locator('td').first().textContent();
    // Seconds and milliseconds read the same in any time zone; the next span is 15 s older.
    const newest = new Date(T0 + 1000 + 129 * 15_000);
    expect(firstTime).toContain(`:${String(newest.getUTCSeconds()).padStart(2, '0')}.${String(newest.getUTCMilliseconds()).padStart(3, '0')}`);
    // The charts aggregate over every matching span, not the listed rows.
    await until(() => page.locator('.uplot').count()).toBe(2);
    await shot('list');
    await page.getByRole('button', { name: /Load 100 more/ }).click();
    await until(() => count.textContent()).toBe(`${LIST_SPANS} of ${LIST_SPANS} matching spans`);
    expect(await page.getByRole('button', { name: /Load .* more/ }).count()).toBe(0);
    await table.getByRole('columnheader', { name: /Duration/ }).getByRole('button').click();
    await page.waitForURL((u) => u.searchParams.get('sort') === '-duration_ms');
    await until(() => table.locator('tbody tr').first().locator('td').nth(5).textContent()).toMatch(/^97(\.0)? ms$/);
    await until(() => count.textContent()).toBe(`100 of ${LIST_SPANS} matching spans`);
  });

  it('keeps the chosen time range through the sidebar, a service → traces link and a page opened without one', async () => {
    await page.goto(`${base()}/services/list-api?since=6h`);
    await until(chosenPreset).toBe('6h');
    await page.getByRole('link', { name: 'Traces', exact: true }).last().click();
    await page.waitForURL((u) => u.pathname === '/traces' && u.searchParams.get('service') === 'list-api');
    expect(new URL(page.url()).searchParams.get('since')).toBe('6h');
    await until(chosenPreset).toBe('6h');
    // Every sidebar link carries the range.
    const hrefs = await page.getByRole('navigation', { name: 'main' }).locator('ul a').evaluateAll((as) => as.map((a) => a.getAttribute('href') ?? ''));
    expect(hrefs.length).toBeGreaterThan(5);
    expect(hrefs.every((h) => h.includes('since=6h'))).toBe(true);
    await page.getByRole('navigation', { name: 'main' }).getByRole('link', { name: 'Logs' }).click();
    await page.waitForURL((u) => u.pathname === '/logs');
    expect(new URL(page.url()).searchParams.get('since')).toBe('6h');
    await until(chosenPreset).toBe('6h');
    // A new choice is what travels next.
    await page.getByRole('group', { name: 'time range presets' }).getByRole('button', { name: '24h' }).click();
    await page.getByRole('navigation', { name: 'main' }).getByRole('link', { name: 'Services' }).click();
    await page.waitForURL((u) => u.pathname === '/services' && u.searchParams.get('since') === '24h');
    // Opened without a range (a bookmark): the last one chosen in this tab, not the page's default.
    await page.goto(`${base()}/traces`);
    await until(chosenPreset).toBe('24h');
    await shot('range-kept');
  });
});
