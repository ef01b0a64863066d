/**
 * How the infrastructure detectors (resources, changes, dependencies) ask the query service: every query
 * waits and retries while the query gate is full — nine detectors start at once and may ask for more
 * queries than the gate queues — until the run's signal aborts.
 */
import { QueryBusyError } from '../../query/executor.ts';
import type { QueryService } from '../../query/service.ts';
import type { DetectorContext } from '../types.ts';

/** Runs `fn`, again after a short pause while the gate refuses it as busy. */
export async function whenFree<T>(signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof QueryBusyError) || signal.aborted) throw err;
      await new Promise((resolve) => setTimeout(resolve, Math.min(500, 50 * attempt)));
      if (signal.aborted) throw err;
    }
  }
}

/**
 * The context with a query service whose `search` and `rows` wait for the gate (the same service
 * otherwise: dialect, time-out), so views such as `metricAnswer` that take a service wait too.
 */
export function patient(ctx: DetectorContext): DetectorContext {
  const inner = ctx.queries;
  const queries = Object.create(inner) as QueryService;
  queries.search = (text, options) => whenFree(ctx.signal, () => inner.search(text, options));
  queries.rows = (q) => whenFree(ctx.signal, () => inner.rows(q));
  return { ...ctx, queries };
}

/** `ledger's`, `orders'`: a name's possessive, for summaries. */
export function possessive(name: string): string {
  return name.endsWith('s') ? `${name}'` : `${name}'s`;
}
