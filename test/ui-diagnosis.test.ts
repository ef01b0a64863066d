/**
 * The diagnosis panel of the incident page, in a real browser against a real Vigil with real telemetry:
 * a service runs normally for half an hour, is deployed (a change is recorded and its spans carry the new
 * `service.version`), and from then on half of its orders fail with 5xx and get slower. An incident opened
 * by hand (automatic diagnosis off, so it starts undiagnosed) shows "Not diagnosed yet"; Diagnose runs the
 * real detectors, the panel polls the running report until it is ready and shows the ranked hypotheses
 * with their evidence, figures and links (the top one expanded), what was compared and which detectors
 * ran; an evidence link opens the data over its time range; Run again runs it anew and the timeline gets
 * the diagnosis; a viewer reads it all but cannot run it; telemetry-derived text stays text; the panel
 * fits 1024 px.
 */
import type { Browser, Page, Response } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DiagnosisResponse, IncidentCreated } from '../src/api/contract.ts';
import { postOtlp } from './helpers/otlp-send.ts';
import { ensureWebBuilt, launchBrowser, OUTPUT, signIn } from './helpers/ui.ts';
import { startTestVigil, type TestVigil } from './helpers/vigil.ts';

const PASSWORD = 'correct-horse-battery';
const SERVICE = 'storefront';
/** A second "service" name that would run script if the panel rendered scope text as HTML. */
const XSS = '<img src=x onerror="window.__xss=1">';
const CATEGORIES = ['change', 'configuration', 'database', 'dependency', 'resource', 'code', 'capacity', 'availability'];

let v: TestVigil;
let base: string;
let browser: Browser;
let page: Page;
let incidentId = 0;
const pageErrors: string[] = [];
/** The diagnosis API answers the page received (method, status, state), in order. */
const seen: { method: string; status: number; state?: string }[] = [];

const hex = (n: number, bytes: number) => Buffer.from(n.toString(16).padStart(bytes * 2, '0'), 'hex');
const ns = (ms: number) => String(BigInt(Math.round(ms)) * 1_000_000n);
const attr = (key: string, value: string | number) => ({ key, value: typeof value === 'number' ? { intValue: value } : { stringValue: value } });

/**
 * 40 minutes of `storefront` traffic, a server span every 5 s for orders and for the catalog: version 1.9.0
 * answers in ~100 ms, all 200; at the onset (8 minutes ago) version 2.0.0 takes over and half of its orders
 * fail with 500 in ~900 ms. The catalog stays healthy throughout.
 */
async function seedFault(onsetMs: number): Promise<void> {
  const now = Date.now();
  let id = 1;
  const byVersion = new Map<string, unknown[]>();
  for (let t = now - 40 * 60_000; t < now - 2000; t += 5000) {
    const after = t >= onsetMs;
    const version = after ? '2.0.0' : '1.9.0';
    const spans = byVersion.get(version) ?? [];
    byVersion.set(version, spans);
    const n = id;
    const fail = after && n % 2 === 0;
    const ms = after ? 850 + (n % 7) * 20 : 90 + (n % 5) * 5;
    spans.push({
      traceId: hex(id, 16),
      spanId: hex(id++, 8),
      name: 'POST /api/orders',
      kind: 2,
      startTimeUnixNano: ns(t),
      endTimeUnixNano: ns(t + ms),
      attributes: [attr('http.route', '/api/orders'), attr('http.request.method', 'POST'), attr('http.response.status_code', fail ? 500 : 200)],
      status: fail ? { code: 2, message: 'order store unavailable' } : { code: 1 },
    });
    spans.push({
      traceId: hex(id, 16),
      spanId: hex(id++, 8),
      name: 'GET /api/catalog',
      kind: 2,
      startTimeUnixNano: ns(t + 1000),
      endTimeUnixNano: ns(t + 1040),
      attributes: [attr('http.route', '/api/catalog'), attr('http.request.method', 'GET'), attr('http.response.status_code', 200)],
      status: { code: 1 },
    });
  }
  for (const [version, spans] of byVersion) {
    await postOtlp(v.server.urls.otlp, v.ingestToken, 'traces', {
      resourceSpans: [
        {
          resource: { attributes: [attr('service.name', SERVICE), attr('service.namespace', 'shop'), attr('service.version', version), attr('host.name', 'node-a')] },
          scopeSpans: [{ scope: { name: 'ui-diagnosis' }, spans }],
        },
      ],
    });
  }
}

const apiAs = async <T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<{ status: number; body: T }> => {
  const res = await fetch(`${base}${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${v.adminToken}`, 'content-type': 'application/json' },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  return { status: res.status, body: (await res.json().catch(() => undefined)) as T };
};

beforeAll(async () => {
  ensureWebBuilt();
  // Incidents open only by hand here and start undiagnosed, so the panel's "not run" state is real.
  v = await startTestVigil({ incidents: { autoOpen: false, diagnose: false }, alerting: { defaultRules: false }, agent: { selfMonitor: false } });
  base = v.server.urls.api;
  await v.server.users.create({ username: 'rita', password: PASSWORD, role: 'responder' });
  await v.server.users.create({ username: 'victor', password: PASSWORD, role: 'viewer' });

  const onsetMs = Date.now() - 8 * 60_000;
  await seedFault(onsetMs);
  const change = await apiAs('/api/v1/changes', { method: 'POST', body: { service: SERVICE, namespace: 'shop', kind: 'deploy', version: '2.0.0', previousVersion: '1.9.0', description: 'orders: new payment flow', timestamp: new Date(onsetMs - 30_000).toISOString(), author: 'ci' } });
  expect(change.status).toBe(201);
  const opened = await apiAs<IncidentCreated>('/api/v1/incidents', {
    method: 'POST',
    body: { title: 'Orders fail at the storefront', severity: 'SEV2', services: [SERVICE, XSS], systems: ['shop'], startedAt: new Date(onsetMs).toISOString() },
  });
  expect(opened.status).toBe(201);
  incidentId = opened.body.id;

  browser = await launchBrowser();
  // 1024 px: the incident page is one column there, the panel as wide as the main area.
  page = await (await browser.newContext({ viewport: { width: 1024, height: 900 } })).newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('response', (r: Response) => {
    if (!new URL(r.url()).pathname.endsWith(`/incidents/${incidentId}/diagnosis`)) return;
    const entry: (typeof seen)[number] = { method: r.request().method(), status: r.status() };
    seen.push(entry);
    void r.json().then(
      (b: Partial<DiagnosisResponse>) => (entry.state = b.state),
      () => undefined,
    );
  });
  await page.goto(`${base}/login?next=/incidents/${incidentId}`);
  await signIn(page, 'rita', PASSWORD);
  await page.waitForURL(`${base}/incidents/${incidentId}`);
}, 120_000);

afterAll(async () => {
  expect(pageErrors).toEqual([]);
  await browser?.close();
  await v?.stop();
});

const panel = () => page.locator('.diagnosis-panel');
const stateBadge = () => page.getByTestId('diagnosis-state');
const hypotheses = () => panel().getByTestId('hypothesis');
const shot = (name: string) => panel().screenshot({ path: `${OUTPUT}/ui-diagnosis-${name}.png` });
const readyText = /^ready · /;

describe('an incident nobody diagnosed yet', () => {
  it('says so and offers Diagnose', async () => {
    await expect.poll(() => stateBadge().textContent(), { timeout: 15_000 }).toBe('not run');
    expect(await panel().textContent()).toContain('Not diagnosed yet.');
    expect(seen.some((s) => s.method === 'GET' && s.status === 404)).toBe(true);
    expect(await panel().getByRole('button', { name: 'Diagnose' }).isEnabled()).toBe(true);
    await shot('not-run');
  }, 30_000);
});

describe('diagnosing', () => {
  let report: DiagnosisResponse;

  it('Diagnose starts a run, the panel polls it while it runs and shows the report when it is ready', async () => {
    await panel().getByRole('button', { name: 'Diagnose' }).click();
    await expect.poll(() => seen.find((s) => s.method === 'POST')?.status, { timeout: 15_000 }).toBe(202);
    await expect.poll(() => stateBadge().textContent(), { timeout: 60_000, interval: 500 }).toMatch(readyText);
    const gets = () => seen.filter((s) => s.method === 'GET' && s.status === 200);
    // Polled until ready: the last answer it read was the ready one (its body is parsed after the response event).
    await expect.poll(() => gets().at(-1)?.state, { timeout: 5000 }).toBe('ready');
    expect(gets().filter((s) => s.state === 'running').length + (seen.find((s) => s.method === 'POST')?.state === 'running' ? 1 : 0)).toBeGreaterThan(0);

    const api = await apiAs<DiagnosisResponse>(`/api/v1/incidents/${incidentId}/diagnosis`);
    expect(api.status).toBe(200);
    report = api.body;
    expect(report.state).toBe('ready');
    expect(report.trigger).toBe('manual');
  }, 90_000);

  it('ranks the hypotheses as the report does, the top one expanded with its evidence', async () => {
    expect(report.hypotheses.length).toBeGreaterThan(0);
    expect(await hypotheses().count()).toBe(report.hypotheses.length);
    expect(await stateBadge().textContent()).toBe(`ready · ${report.hypotheses.length} ${report.hypotheses.length === 1 ? 'hypothesis' : 'hypotheses'}`);
    // The fault is the storefront's: some hypothesis names it.
    expect(report.hypotheses.some((h) => h.component.includes(SERVICE) || h.services.includes(SERVICE))).toBe(true);

    const top = hypotheses().first();
    const h1 = report.hypotheses[0]!;
    expect(CATEGORIES).toContain(await top.locator('.diag-cat').first().textContent());
    expect(await top.locator('.diag-cat').first().textContent()).toBe(h1.category);
    expect(await top.locator('.diag-rank').textContent()).toBe('#1');
    expect(await top.locator('code.diag-component').textContent()).toBe(h1.component);
    expect(await top.locator('.diag-confidence em').textContent()).toBe(`${Math.round(h1.confidence * 100)} %`);
    expect(await top.locator('.diag-summary').textContent()).toBe(h1.summary);
    expect(await top.locator('.diag-next').textContent()).toContain(h1.next_step);
    expect(await top.locator('.diag-confidence-track span').getAttribute('style')).toBe(`width: ${Math.round(h1.confidence * 100)}%;`);

    // Top expanded, the others collapsed.
    const toggles = panel().getByRole('button', { name: /evidence \(\d+\)/ });
    expect(await toggles.first().getAttribute('aria-expanded')).toBe('true');
    for (let i = 1; i < report.hypotheses.length; i++) expect(await toggles.nth(i).getAttribute('aria-expanded')).toBe('false');
    expect(await panel().getByTestId('evidence').count()).toBe(h1.evidence.length);

    const e1 = h1.evidence[0]!;
    const ev = top.getByTestId('evidence').first();
    expect(await ev.locator('.diag-evidence-head').textContent()).toContain(e1.detector);
    expect(await ev.locator('.diag-evidence-head').textContent()).toContain(e1.role);
    expect(await ev.locator('.diag-evidence-summary').textContent()).toBe(e1.summary);
    const figureKeys = Object.keys(e1.figures);
    if (figureKeys.length) expect(await ev.getByRole('table', { name: 'figures' }).locator('th').allTextContents()).toEqual(figureKeys);
    expect(await ev.getByRole('link').count()).toBe(e1.links.length);
    if (e1.links[0]) expect(await ev.getByRole('link').first().getAttribute('href')).toBe(e1.links[0].href);
    await shot('ready');
  }, 30_000);

  it('says what was compared and which detectors ran, failures marked', async () => {
    const compared = (await panel().getByRole('definition').allTextContents()).join(' | ');
    expect(compared).toMatch(/\d\d:\d\d:\d\d → \d\d:\d\d:\d\d \(\d+m( \d+s)?\) \| .*\d\d:\d\d:\d\d → \d\d:\d\d:\d\d \(\d+m( \d+s)?\) \| .*\d\d:\d\d:\d\d \| /);
    // Scope text is the incident's, XSS included, as text.
    expect(compared).toContain(`shop, ${SERVICE}, ${XSS}`);
    const runs = panel().getByTestId('detector-run');
    expect(await runs.count()).toBe(report.detectors.length);
    expect(report.detectors.length).toBeGreaterThan(0);
    for (const [i, d] of report.detectors.entries()) {
      const text = (await runs.nth(i).textContent())!;
      expect(text.startsWith(d.name)).toBe(true);
      expect(await runs.nth(i).getAttribute('class')).toBe(d.state === 'ok' ? (d.evidence > 0 ? 'found' : '') : 'bad');
    }
    expect(await panel().locator('.diag-detectors').textContent()).toMatch(new RegExp(`^${report.detectors.length} detectors?, \\d+ with findings`));
    expect(await page.evaluate(() => (globalThis as unknown as { __xss?: number }).__xss)).toBeUndefined();
    expect(await panel().locator('img').count()).toBe(0);
  });

  it('collapses and expands evidence', async () => {
    const toggle = panel().getByRole('button', { name: /evidence \(\d+\)/ }).first();
    await toggle.click();
    expect(await toggle.getAttribute('aria-expanded')).toBe('false');
    expect(await hypotheses().first().getByTestId('evidence').count()).toBe(0);
    await toggle.click();
    expect(await toggle.getAttribute('aria-expanded')).toBe('true');
    if (report.hypotheses.length > 1) {
      const second = panel().getByRole('button', { name: /evidence \(\d+\)/ }).nth(1);
      await second.click();
      expect(await hypotheses().nth(1).getByTestId('evidence').count()).toBe(report.hypotheses[1]!.evidence.length);
    }
  });

  it('the panel fits 1024 px: nothing runs past it', async () => {
    const overflow = await panel().evaluate((el) => el.scrollWidth - el.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    const box = (await panel().boundingBox())!;
    expect(box.x + box.width).toBeLessThanOrEqual(1024);
  });

  it('an evidence link opens the data behind it over its time range', async () => {
    const withLink = report.hypotheses.flatMap((h) => h.evidence).find((e) => e.links.length > 0);
    expect(withLink, 'some evidence carries a link').toBeDefined();
    const link = panel().getByRole('link', { name: withLink!.links[0]!.label, exact: true }).first();
    await expect.poll(() => link.count()).toBeGreaterThan(0);
    await link.click();
    await page.waitForURL((u) => `${u.pathname}${u.search}` === withLink!.links[0]!.href);
    if (withLink!.links[0]!.kind !== 'trace') expect(page.url()).toMatch(/[?&]from=\d+&to=\d+/);
    await page.goBack();
    await page.waitForURL(`${base}/incidents/${incidentId}`);
    await expect.poll(() => stateBadge().textContent(), { timeout: 15_000 }).toMatch(readyText);
  }, 30_000);

  it('Run again runs a new diagnosis, polls it and the timeline records it', async () => {
    const posts = seen.filter((s) => s.method === 'POST').length;
    const diagnosisEvents = () => page.getByTestId('timeline-event').filter({ hasText: 'Diagnosis' }).count();
    const before = await diagnosisEvents();
    await panel().getByRole('button', { name: 'Run again' }).click();
    await expect.poll(() => seen.filter((s) => s.method === 'POST').length, { timeout: 15_000 }).toBe(posts + 1);
    expect(seen.filter((s) => s.method === 'POST').at(-1)?.status).toBe(202);
    // The badge said ready before the click too: wait for the new run to be ready in the API, then on the page.
    const latest = async () => (await apiAs<DiagnosisResponse>(`/api/v1/incidents/${incidentId}/diagnosis`)).body;
    await expect.poll(async () => { const d = await latest(); return d.id > report.id ? d.state : 'old'; }, { timeout: 60_000, interval: 300 }).toBe('ready');
    await expect.poll(() => seen.filter((s) => s.method === 'GET' && s.status === 200).at(-1)?.state, { timeout: 15_000 }).toBe('ready');
    await expect.poll(() => stateBadge().textContent(), { timeout: 15_000, interval: 300 }).toMatch(readyText);
    const again = { body: await latest() };
    expect(again.body.id).toBeGreaterThan(report.id);
    expect(await hypotheses().count()).toBe(again.body.hypotheses.length);
    await expect.poll(diagnosisEvents, { timeout: 20_000 }).toBeGreaterThan(before);
  }, 90_000);
});

describe('a viewer', () => {
  it('reads the diagnosis but cannot run it', async () => {
    const viewer = await browser.newPage({ viewport: { width: 1024, height: 900 } });
    viewer.on('pageerror', (e) => pageErrors.push(e.message));
    try {
      await viewer.goto(`${base}/login?next=/incidents/${incidentId}`);
      await signIn(viewer, 'victor', PASSWORD);
      await viewer.waitForURL(`${base}/incidents/${incidentId}`);
      await expect.poll(() => viewer.getByTestId('diagnosis-state').textContent(), { timeout: 15_000 }).toMatch(readyText);
      expect(await viewer.locator('.diagnosis-panel').getByTestId('hypothesis').count()).toBeGreaterThan(0);
      expect(await viewer.locator('.diagnosis-panel').getByRole('button', { name: /Run again|Diagnose|Retry/ }).count()).toBe(0);
    } finally {
      await viewer.close();
    }
  }, 60_000);
});
