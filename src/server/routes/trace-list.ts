/**
 * `GET /api/v1/traces`: the trace explorer's list, one page at a time over the whole time range
 * (newest first by default, or by duration) with a cursor to the next page, and on the first page the
 * number of all matching spans. Read-scoped, through the same gate and time-out as searches.
 */
import type { FastifyInstance } from 'fastify';
import type { CompiledQuery } from '../../query/index.ts';
import { ParamError, parseTimeRange } from '../../query/time-range.ts';
import { nextTraceCursor, TRACE_LIST_SORTS, traceListQueries, type TraceListSort } from '../../query/views/traces.ts';
import { sendQueryError, type QueryRouteContext } from './query.ts';

interface ListParams {
  q?: string;
  since?: string;
  from?: string;
  to?: string;
  sort?: string;
  cursor?: string;
  limit?: string;
}

/** Spans per page unless asked otherwise, and the most a page may hold. */
const DEFAULT_PAGE = 50;
const MAX_PAGE = 1000;

/** Registers the trace list route. */
export function registerTraceListRoute(app: FastifyInstance, ctx: QueryRouteContext): void {
  const now = ctx.now ?? (() => new Date());
  const exec = (q: CompiledQuery) => ctx.queries.execute(q);

  app.get('/api/v1/traces', { config: { access: 'read' } }, async (req, reply) => {
    const p = req.query as ListParams;
    try {
      if (p.q !== undefined && typeof p.q !== 'string') throw new ParamError('q: give one span search');
      const text = p.q?.trim() ? p.q : 'from spans kind=server';
      const sort = (p.sort ?? '-timestamp') as TraceListSort;
      if (!TRACE_LIST_SORTS.includes(sort)) throw new ParamError(`sort: expected one of ${TRACE_LIST_SORTS.join(', ')}`);
      const limit = p.limit === undefined || p.limit === '' ? DEFAULT_PAGE : Number(p.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) throw new ParamError(`limit: expected an integer from 1 to ${MAX_PAGE}`);
      const range = parseTimeRange(p, now());
      const queries = traceListQueries(ctx.queries.dialect, { text, fromNs: range.fromNs, toNs: range.toNs, sort, cursor: p.cursor || undefined, limit });
      const [page, count] = await Promise.all([exec(queries.list), queries.count ? exec(queries.count) : null]);
      const { rows, cursor } = nextTraceCursor(page.rows, page.truncated);
      return {
        from: new Date(Number(range.fromNs / 1_000_000n)).toISOString(),
        to: new Date(Number(range.toNs / 1_000_000n)).toISOString(),
        sort,
        rows,
        // Only the first page counts: later pages keep the total the first one reported.
        total: count ? Number(count.rows[0]?.total ?? 0) : null,
        nextCursor: cursor,
        elapsedMs: page.elapsedMs,
      };
    } catch (err) {
      return sendQueryError(reply, err);
    }
  });
}
