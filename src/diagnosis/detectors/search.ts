/**
 * How the request-level detectors ask the query service: a query-language text over one period, without
 * the "why is it empty" explanation (an empty answer is an answer here). The runner's query service
 * already waits while the query gate is full (patient-queries.ts).
 */
import type { QueryResult } from '../../query/executor.ts';
import { ns } from '../stats.ts';
import type { DetectorContext, TimeWindow } from '../types.ts';

/** The answer's rows of `text` over `w`, at most `limit`. */
export async function searchRows(ctx: DetectorContext, text: string, w: TimeWindow, limit: number): Promise<QueryResult['rows']> {
  return (await ctx.queries.search(text, { fromNs: ns(w.fromMs), toNs: ns(w.toMs), limit, explainEmpty: false })).rows;
}
