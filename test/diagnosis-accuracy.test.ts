/**
 * Diagnosis accuracy on a system Vigil was not written for (issue 14 §5b): for each scenario of
 * test/scenarios/, a fresh Vigil receives 42 minutes of the synthetic shop's telemetry (32 normal, 10 with
 * the fault) through its OTLP receiver, an incident is opened through `POST /api/v1/incidents` with the
 * fault's start, and the report of `GET /api/v1/incidents/{id}/diagnosis` — computed as the incident opened,
 * ready within 30 s — is graded: is the expected cause ranked first (top-1), among the first three (top-3)?
 * Every expected cause must be in the top 3; the table of both rates is printed (docs/diagnosis.md keeps it).
 *
 *   npx vitest run test/diagnosis-accuracy.test.ts            (all scenarios)
 *   SCENARIO=pool-exhausted npx vitest run test/diagnosis-accuracy.test.ts
 *   VERBOSE=1 (every scenario's top 5) · DIAGNOSIS_DUMP=<dir> (each report as <dir>/<scenario>.json)
 *   SEED=11 (other traffic: the player is seeded, 7 by default) · QMAX=16 (a wider query gate)
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { DiagnosisResponse } from '../src/api/contract.ts';
import { play, type PlayResult } from './scenarios/player.ts';
import { matches, SCENARIOS, type Scenario } from './scenarios/scenarios.ts';
import { startTestVigil, type TestVigil } from './helpers/vigil.ts';

/** The issue's promise: the report is ready within 30 s of the incident opening. */
const READY_WITHIN_MS = 30_000;

interface Row {
  id: string;
  title: string;
  expected: string;
  top1: boolean;
  top3: boolean;
  rank: number | null;
  got: string[];
  readyMs: number;
  playMs: number;
  sent: string;
  /** Detectors that failed or ran out of time (`name: error`). */
  failed: string[];
}

const rows: Row[] = [];
const only = process.env.SCENARIO?.split(',').filter(Boolean);
const seed = Number(process.env.SEED ?? 7);
const selected = only?.length ? SCENARIOS.filter((s) => only.includes(s.id)) : SCENARIOS;

async function api<T>(v: TestVigil, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(`${v.server.urls.api}${path}`, {
    method,
    headers: { authorization: `Bearer ${v.adminToken}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: (await res.json()) as T };
}

/** Opens the incident as a responder would, then waits for the diagnosis made as it opened. */
async function diagnose(v: TestVigil, sc: Scenario, played: PlayResult): Promise<{ report: DiagnosisResponse; readyMs: number }> {
  const opened = await api<{ id: number }>(v, 'POST', '/api/v1/incidents', { title: sc.incident.title, severity: 'SEV2', services: sc.incident.services, startedAt: new Date(played.faultAt).toISOString() });
  expect(opened.status, JSON.stringify(opened.body)).toBe(201);
  const openedAt = Date.now();
  for (;;) {
    const got = await api<DiagnosisResponse>(v, 'GET', `/api/v1/incidents/${opened.body.id}/diagnosis`);
    if (got.status === 200 && got.body.state !== 'running') return { report: got.body, readyMs: Date.now() - openedAt };
    if (Date.now() - openedAt > READY_WITHIN_MS) throw new Error(`diagnosis not ready ${READY_WITHIN_MS} ms after the incident opened (${got.status} ${JSON.stringify(got.body).slice(0, 300)})`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const describeHypothesis = (h: { rank: number; category: string; component: string; confidence: number }) => `${h.rank}. ${h.category} ${h.component} (${h.confidence})`;

describe('diagnosis accuracy on the synthetic shop', () => {
  afterAll(() => {
    if (rows.length === 0) return;
    const pct = (n: number) => `${Math.round((100 * n) / rows.length)}%`;
    const top1 = rows.filter((r) => r.top1).length;
    const top3 = rows.filter((r) => r.top3).length;
    const lines = [
      '| scenario | expected | top-1 | top-3 | rank | ready | detectors failed |',
      '|---|---|---|---|---|---|---|',
      ...rows.map((r) => `| ${r.title} | \`${r.expected}\` | ${r.top1 ? '✓' : '✗'} | ${r.top3 ? '✓' : '✗'} | ${r.rank ?? '—'} | ${(r.readyMs / 1000).toFixed(1)} s | ${r.failed.join('; ') || '—'} |`),
      `| **overall (${rows.length})** | | **${top1}/${rows.length} (${pct(top1)})** | **${top3}/${rows.length} (${pct(top3)})** | | | |`,
    ];
    console.log(`\nDiagnosis accuracy (synthetic shop, seed ${seed})\n${lines.join('\n')}\n`);
    for (const r of rows.filter((x) => !x.top1 || process.env.VERBOSE)) console.log(`${r.id}: expected ${r.expected}; got (${r.sent} played in ${r.playMs} ms)\n  ${r.got.join('\n  ')}`);
  });

  // The control: the same shop with nothing broken. Nothing should look like a confident cause.
  if (!only?.length || only.includes('healthy')) {
    it('healthy: no fault → no confident hypothesis', async () => {
      const v = await startTestVigil({ agent: { selfMonitor: false }, alerting: { defaultRules: false }, ...(process.env.QMAX ? { query: { maxConcurrent: Number(process.env.QMAX) } } : {}) });
      try {
        const played = await play({ apiUrl: v.server.urls.api, otlpUrl: v.server.urls.otlp, token: v.ingestToken }, {}, [], { seed });
        const { report } = await diagnose(v, { id: 'healthy', title: 'healthy', faults: {}, changes: [], incident: { title: 'Users say the shop feels slow', services: ['web-frontend'] }, expected: { category: 'code', component: '', match: 'substring' } }, played);
        // The detectors' promise: a healthy window gives no evidence scored 0.3 or more.
        const confident = report.hypotheses.filter((h) => h.confidence >= 0.3);
        console.log(`healthy: ${report.hypotheses.length} hypotheses${report.hypotheses.length ? `:\n  ${report.hypotheses.slice(0, 5).map(describeHypothesis).join('\n  ')}` : ''}`);
        expect(confident.map(describeHypothesis)).toEqual([]);
        expect(report.detectors.filter((d) => d.state !== 'ok'), 'every detector runs to completion').toEqual([]);
      } finally {
        await v.stop();
      }
    }, 90_000);
  }

  for (const sc of selected) {
    it(`${sc.id}: ${sc.title} → ${sc.expected.category} ${sc.expected.component}`, async () => {
      const v = await startTestVigil({ agent: { selfMonitor: false }, alerting: { defaultRules: false }, ...(process.env.QMAX ? { query: { maxConcurrent: Number(process.env.QMAX) } } : {}) });
      try {
        const played = await play({ apiUrl: v.server.urls.api, otlpUrl: v.server.urls.otlp, token: v.ingestToken }, sc.faults, sc.changes, { seed });
        // A few thousand spans in a few seconds: the player stays cheap enough for the suite.
        expect(played.spans).toBeGreaterThan(3000);
        expect(played.ms).toBeLessThan(15_000);
        const { report, readyMs } = await diagnose(v, sc, played);
        expect(report.state, report.error).toBe('ready');
        if (process.env.DIAGNOSIS_DUMP) writeFileSync(join(process.env.DIAGNOSIS_DUMP, `${sc.id}.json`), JSON.stringify(report, null, 2));
        const at = report.hypotheses.findIndex((h) => matches(sc.expected, h));
        const row: Row = {
          id: sc.id,
          title: sc.title,
          expected: `${sc.expected.category} ${sc.expected.component}`,
          top1: at === 0,
          top3: at >= 0 && at < 3,
          rank: at >= 0 ? at + 1 : null,
          got: report.hypotheses.slice(0, 5).map(describeHypothesis),
          readyMs,
          playMs: played.ms,
          sent: `${played.spans} spans, ${played.logs} logs, ${played.points} points, ${played.changes} changes`,
          failed: report.detectors.filter((d) => d.state !== 'ok').map((d) => `${d.name} ${d.state}${d.error ? `: ${d.error}` : ''}`),
        };
        rows.push(row);
        expect(readyMs).toBeLessThan(READY_WITHIN_MS);
        // A grade earned with a detector down is not the diagnosis' grade.
        expect(row.failed, 'every detector runs to completion').toEqual([]);
        expect(row.top3, `expected ${row.expected} in the top 3; got\n  ${row.got.join('\n  ')}\n  detectors: ${JSON.stringify(report.detectors)}`).toBe(true);
      } finally {
        await v.stop();
      }
    }, 90_000);
  }
});
