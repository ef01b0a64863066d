/**
 * How the request-level detectors ask the query service: a query-language text over one period, without
 * the "why is it empty" explanation (an empty answer is an answer here), waiting and retrying when the
 * query gate is full — nine detectors start at once and may ask for more queries than the gate queues —
 * until the run's signal aborts.
 */
import { QueryBusyError, type QueryResult } from '../../query/executor.ts';
import { ns } from '../stats.ts';
import type { DetectorContext, TimeWindow } from '../types.ts';

/** The answer's rows of `text` over `w`, at most `limit`. */
export async function searchRows(ctx: DetectorContext, text: string, w: TimeWindow, limit: number): Promise<QueryResult['rows']> {
  for (let attempt = 1; ; attempt++) {
    try {
      return (await ctx.queries.search(text, { fromNs: ns(w.fromMs), toNs: ns(w.toMs), limit, explainEmpty: false })).rows;
    } catch (err) {
      if (!(err instanceof QueryBusyError) || ctx.signal.aborted) throw err;
      await new Promise((resolve) => setTimeout(resolve, Math.min(500, 50 * attempt)));
      if (ctx.signal.aborted) throw err;
    }
  }
}
