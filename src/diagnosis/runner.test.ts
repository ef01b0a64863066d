import { describe, expect, it } from 'vitest';
import { runDetectors } from './runner.ts';
import type { Detector, Evidence } from './types.ts';

const evidence = (over: Partial<Evidence> = {}): Evidence => ({
  detector: 'x',
  category: 'dependency',
  component: 'ledger',
  services: ['ledger'],
  role: 'cause',
  score: 0.8,
  summary: 'ledger answers 5xx',
  figures: {},
  links: [{ kind: 'logs', label: 'errors', href: '/logs?q=x' }],
  ...over,
});
const ctx = {
  scope: { services: [], systems: [], onsetMs: 0, window: { fromMs: 0, toMs: 1 }, baseline: { fromMs: -1, toMs: 0 } },
  queries: {} as never,
  changes: async () => [],
  topology: async () => [],
};
const detector = (name: string, run: Detector['run']): Detector => ({ name, description: name, run });

describe('runDetectors', () => {
  it('keeps the evidence of detectors that answer and records the ones that fail or overrun', async () => {
    const out = await runDetectors(
      [
        detector('good', async () => [evidence()]),
        detector('broken', async () => {
          throw new Error('no such metric');
        }),
        detector('slow', (c) => new Promise((resolve) => setTimeout(() => resolve([evidence({ component: 'late' })]), c.signal.aborted ? 0 : 5000))),
      ],
      ctx,
      200,
    );
    expect(out.evidence.map((e) => [e.detector, e.component])).toEqual([['good', 'ledger']]);
    const states = Object.fromEntries(out.runs.map((r) => [r.name, r.state]));
    expect(states).toEqual({ good: 'ok', broken: 'failed', slow: 'timeout' });
    expect(out.runs.find((r) => r.name === 'broken')?.error).toBe('no such metric');
  });

  it('drops malformed evidence, clamps scores and keeps only UI links', async () => {
    const out = await runDetectors(
      [
        detector('sloppy', async () => [
          evidence({ category: 'weather' as never }),
          evidence({ component: ' ' }),
          evidence({ score: 7, links: [{ kind: 'logs', label: 'x', href: 'https://evil.example/' }, { kind: 'logs', label: 'y', href: '//evil.example/' }, { kind: 'logs', label: 'ok', href: '/traces/abc' }] }),
        ]),
      ],
      ctx,
      1000,
    );
    expect(out.evidence).toHaveLength(1);
    expect(out.evidence[0]).toMatchObject({ score: 1, detector: 'sloppy' });
    expect(out.evidence[0]?.links.map((l) => l.href)).toEqual(['/traces/abc']);
  });
});
