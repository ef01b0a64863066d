/**
 * Runs detectors in parallel within one time budget. Their query service waits while the query gate is
 * full (nine detectors start at once and may ask for more than the gate queues) until the budget is spent. A detector that throws or overruns costs only its own
 * evidence: the others' stand, and the run records what happened to each. Evidence is checked on the way out
 * (category from the list, score clamped, links that are UI paths), so one sloppy detector cannot break a
 * report or put a foreign URL in front of a responder.
 */
import { withPatientQueries } from './patient-queries.ts';
import { CATEGORIES, type Detector, type DetectorContext, type DetectorRun, type Evidence } from './types.ts';

/** Most evidence one detector may contribute (its strongest). */
export const MAX_EVIDENCE_PER_DETECTOR = 25;

/** What a run of all detectors found. */
export interface DetectorResults {
  evidence: Evidence[];
  runs: DetectorRun[];
}

const clamp01 = (x: number) => (Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0);

/** The evidence as the report keeps it, or undefined when it is not usable. */
export function checkEvidence(e: Evidence, detector: string): Evidence | undefined {
  if (!e || typeof e !== 'object') return undefined;
  if (!(CATEGORIES as readonly string[]).includes(e.category)) return undefined;
  if (typeof e.component !== 'string' || !e.component.trim() || typeof e.summary !== 'string' || !e.summary.trim()) return undefined;
  return {
    ...e,
    detector,
    component: e.component.slice(0, 500),
    summary: e.summary.slice(0, 1000),
    role: e.role === 'cause' ? 'cause' : 'symptom',
    score: clamp01(e.score),
    services: Array.isArray(e.services) ? e.services.filter((s) => typeof s === 'string') : [],
    figures: e.figures && typeof e.figures === 'object' ? e.figures : {},
    links: Array.isArray(e.links) ? e.links.filter((l) => typeof l?.href === 'string' && l.href.startsWith('/') && !l.href.startsWith('//')) : [],
    ...(typeof e.onsetMs === 'number' && Number.isFinite(e.onsetMs) ? { onsetMs: e.onsetMs } : { onsetMs: undefined }),
  };
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err)).slice(0, 300);

/** Runs every detector at once; each gets at most `budgetMs`, after which its signal aborts and its answer is dropped. */
export async function runDetectors(detectors: readonly Detector[], ctx: Omit<DetectorContext, 'signal'>, budgetMs: number, now: () => number = Date.now): Promise<DetectorResults> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error('diagnosis time budget spent')), budgetMs);
  try {
    const settled = await Promise.all(
      detectors.map(async (d): Promise<{ run: DetectorRun; evidence: Evidence[] }> => {
        const started = now();
        let overrun: NodeJS.Timeout | undefined;
        const timeout = new Promise<'timeout'>((resolve) => {
          overrun = setTimeout(() => resolve('timeout'), budgetMs);
        });
        try {
          const out = await Promise.race([d.run(withPatientQueries({ ...ctx, signal: controller.signal })), timeout]);
          const ms = now() - started;
          if (out === 'timeout') return { run: { name: d.name, state: 'timeout', ms, evidence: 0, error: `did not finish within ${budgetMs} ms` }, evidence: [] };
          const evidence = (Array.isArray(out) ? out : [])
            .map((e) => checkEvidence(e, d.name))
            .filter((e): e is Evidence => e !== undefined)
            .sort((a, b) => b.score - a.score)
            .slice(0, MAX_EVIDENCE_PER_DETECTOR);
          return { run: { name: d.name, state: 'ok', ms, evidence: evidence.length }, evidence };
        } catch (err) {
          const ms = now() - started;
          const state = controller.signal.aborted ? 'timeout' : 'failed';
          return { run: { name: d.name, state, ms, evidence: 0, error: message(err) }, evidence: [] };
        } finally {
          clearTimeout(overrun);
        }
      }),
    );
    return { evidence: settled.flatMap((s) => s.evidence), runs: settled.map((s) => s.run) };
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
}
