/**
 * PLACEHOLDER ranker (owner: H-accuracy): evidence → ranked hypotheses. First version: evidence about one
 * (category, component) is merged; confidence = 1 − Π(1 − score); causes before symptoms.
 */
import type { DiagnosisScope, Evidence, Hypothesis, ServiceEdge } from './types.ts';

/** What the ranker knows besides the evidence. */
export interface RankContext {
  scope: DiagnosisScope;
  edges: readonly ServiceEdge[];
}

/** Turns evidence into hypotheses, most likely first (rank 1). */
export function rank(evidence: readonly Evidence[], _ctx: RankContext): Hypothesis[] {
  const groups = new Map<string, Evidence[]>();
  for (const e of evidence) {
    const key = `${e.category}\u0000${e.component}`;
    groups.set(key, [...(groups.get(key) ?? []), e]);
  }
  const hyps = [...groups.values()].map((list) => {
    const sorted = [...list].sort((a, b) => b.score - a.score);
    const top = sorted[0] as Evidence;
    const confidence = 1 - sorted.reduce((p, e) => p * (1 - Math.min(0.99, Math.max(0, e.score))), 1);
    const cause = sorted.some((e) => e.role === 'cause');
    return {
      rank: 0,
      category: top.category,
      component: top.component,
      services: [...new Set(sorted.flatMap((e) => e.services))],
      confidence: Math.round(confidence * 100) / 100,
      summary: top.summary,
      evidence: sorted,
      next_step: sorted.find((e) => e.nextStep)?.nextStep ?? 'Open the evidence links and compare with the baseline.',
      cause,
    };
  });
  hyps.sort((a, b) => Number(b.cause) - Number(a.cause) || b.confidence - a.confidence);
  return hyps.map(({ cause: _c, ...h }, i) => ({ ...h, rank: i + 1 }));
}
