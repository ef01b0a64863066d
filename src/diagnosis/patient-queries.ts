/**
 * The query service as detectors get it from the runner: the same service, but a query refused because
 * the gate's queue is full waits a little and asks again, until the run's signal aborts. Nine detectors start at once and together may ask for more queries than the gate
 * queues; a refused query must not cost a detector its evidence.
 */
import { QueryBusyError } from '../query/executor.ts';
import type { QueryService } from '../query/service.ts';
import type { DetectorContext } from './types.ts';

async function retrying<T>(signal: AbortSignal, run: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (err) {
      if (!(err instanceof QueryBusyError) || signal.aborted) throw err;
      await new Promise((resolve) => setTimeout(resolve, Math.min(500, 50 * attempt)));
      if (signal.aborted) throw err;
    }
  }
}

/** `ctx` with a query service whose `search`, `rows` and `execute` retry while the gate is full. */
export function withPatientQueries(ctx: DetectorContext): DetectorContext {
  const inner = ctx.queries;
  // A child of the real service: views and metricAnswer see the same dialect and time-out.
  const queries = Object.create(inner) as QueryService;
  queries.search = (text, options) => retrying(ctx.signal, () => inner.search(text, options));
  queries.rows = (q) => retrying(ctx.signal, () => inner.rows(q));
  queries.execute = (compiled) => retrying(ctx.signal, () => inner.execute(compiled));
  return { ...ctx, queries };
}

/** `fn` over `items` with at most `limit` running at once (each asks a few queries), results in order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
