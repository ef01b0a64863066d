/**
 * Search and trace API: `/api/v1/search` (the query language over a time range), `/api/v1/tail`
 * (live tail as Server-Sent Events), `/api/v1/traces/:id`, `/api/v1/services`, `/api/v1/service-map`.
 * All read-scoped. Every read goes through the query service (src/query/service.ts): one gate
 * (concurrency) and one time-out, so a runaway query cannot starve ingest.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { compileQuery, QueryBusyError, QueryError, QueryRejectedError, QueryResourceError, QueryTimeoutError, type QueryResult } from '../../query/index.ts';
import { parseInstant, parseTimeRange, ParamError } from '../../query/time-range.ts';
import { serviceMapQuery, servicesQuery, traceLogsQuery, traceSpansQuery, TRACE_ID, type SqlQuery } from '../../query/views/traces.ts';
import { criticalPath } from '../../query/views/critical-path.ts';
import { toResultValue, type ResultValue } from '../../query/executor.ts';
import type { QueryService } from '../../query/service.ts';
import type { SearchResult, TraceDetail, TraceSpan } from '../../api/contract.ts';
import { StoreTimeoutError } from '../../store/telemetry/store.ts';

/** What the query routes need. */
export interface QueryRouteContext {
  /** The one read seam over telemetry. */
  queries: QueryService;
  /** Clock, for tests. */
  now?: () => Date;
}

interface SearchParams {
  q?: string;
  query?: string;
  since?: string;
  from?: string;
  to?: string;
  limit?: string | number;
}

/** The status and body a failed query answers with, or null for a server fault (which stays a 500). */
function queryErrorAnswer(err: unknown): { status: number; body: { error: string; position?: number; detail?: string } } | null {
  if (err instanceof QueryError) return { status: 400, body: { error: err.message, position: err.position, detail: err.detail } };
  if (err instanceof ParamError || err instanceof RangeError || err instanceof QueryRejectedError) return { status: 400, body: { error: err.message } };
  if (err instanceof QueryBusyError) return { status: 429, body: { error: err.message } };
  if (err instanceof QueryTimeoutError || err instanceof StoreTimeoutError || err instanceof QueryResourceError) return { status: 503, body: { error: err.message } };
  return null;
}

/** Answers a failed query with a status and a message users can act on. */
export function sendQueryError(reply: FastifyReply, err: unknown): FastifyReply {
  const answer = queryErrorAnswer(err);
  if (!answer) throw err;
  if (answer.status === 429) void reply.header('retry-after', '1');
  return reply.code(answer.status).send(answer.body);
}

/** Registers the search and trace routes. */
export function registerQueryRoutes(app: FastifyInstance, ctx: QueryRouteContext): void {
  const now = ctx.now ?? (() => new Date());
  const run = (q: SqlQuery) => ctx.queries.rows(q);
  const runText = (text: string, fromNs: bigint, toNs: bigint, limit: number | undefined, explainEmpty: boolean): Promise<QueryResult> =>
    ctx.queries.search(text, { fromNs, toNs, limit, explainEmpty });

  const search = async (p: SearchParams): Promise<SearchResult> => {
    const text = p.q ?? p.query;
    if (typeof text !== 'string' || text.trim() === '') throw new ParamError('q: give a query, e.g. q=service.name=checkout severity>=ERROR');
    const limit = p.limit === undefined || p.limit === '' ? undefined : Number(p.limit);
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) throw new ParamError('limit: expected a positive integer');
    const range = parseTimeRange(p, now());
    const result = await runText(text, range.fromNs, range.toNs, limit, true);
    return { ...result, from: toIso(range.fromNs), to: toIso(range.toNs) };
  };

  // The same search from query parameters (GET, links) or a JSON body (POST, long queries).
  for (const method of ['GET', 'POST'] as const) {
    app.route({
      method,
      url: '/api/v1/search',
      config: { access: 'read' },
      handler: async (req, reply) => {
        try {
          return await search((method === 'GET' ? req.query : (req.body ?? {})) as SearchParams);
        } catch (err) {
          return sendQueryError(reply, err);
        }
      },
    });
  }

  app.get('/api/v1/tail', { config: { access: 'read' } }, async (req, reply) => {
    const p = req.query as SearchParams & { interval?: string };
    const text = p.q ?? p.query ?? '*';
    try {
      // Validate once up front so a bad query gets a plain 400, not a broken stream.
      const probe = compileQuery(text, { from: 0n, to: 1n, dialect: ctx.queries.dialect });
      if (probe.kind !== 'events') throw new ParamError('q: live tail follows events; remove stats, timechart, top and rare pipes');
    } catch (err) {
      return sendQueryError(reply, err);
    }
    const intervalMs = Math.min(10_000, Math.max(250, Number(p.interval ?? 1000) || 1000));
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    res.write(': live tail\n\n');
    // Start a little in the past: records arrive after they happen.
    let fromNs = BigInt(now().getTime() - 5_000) * 1_000_000n;
    let seenAtFrom = new Set<string>();
    let open = true;
    req.raw.on('close', () => (open = false));
    while (open) {
      try {
        const toNs = BigInt(now().getTime() + 1) * 1_000_000n;
        const result = await runText(text, fromNs, toNs, 500, false);
        // Oldest first; records sharing the newest timestamp are remembered so they are sent once.
        const rows = [...result.rows].reverse();
        let newest = fromNs;
        const seenAtNewest = new Set<string>();
        for (const row of rows) {
          const key = JSON.stringify(row);
          const ns = isoToNs(String(row.timestamp ?? ''));
          if (ns === fromNs && seenAtFrom.has(key)) continue;
          res.write(`data: ${key}\n\n`);
          if (ns > newest) {
            newest = ns;
            seenAtNewest.clear();
          }
          if (ns === newest) seenAtNewest.add(key);
        }
        if (newest > fromNs) {
          fromNs = newest;
          seenAtFrom = seenAtNewest;
        } else for (const k of seenAtNewest) seenAtFrom.add(k);
      } catch (err) {
        // Only messages written for users reach the stream; engine text and stacks stay in the log.
        const answer = queryErrorAnswer(err);
        if (!answer) req.log.error({ err }, 'live tail query failed');
        res.write(`event: error\ndata: ${JSON.stringify({ error: answer?.body.error ?? 'the live tail query failed; the server log has the details' })}\n\n`);
      }
      await new Promise((r) => setTimeout(r, intervalMs));
    }
    res.end();
  });

  app.get('/api/v1/traces/:traceId', { config: { access: 'read' } }, async (req, reply) => {
    const traceId = String((req.params as { traceId: string }).traceId).toLowerCase();
    if (!TRACE_ID.test(traceId)) return reply.code(400).send({ error: 'traceId: expected 32 hexadecimal characters' });
    try {
      // A time the trace was seen at (from a log line or search result) lets the lookup read an hour
      // either side instead of every row group; without a hit there, the whole store is searched.
      const around = (req.query as { around?: string }).around;
      let window: { fromNs: bigint; toNs: bigint } | undefined;
      if (around) {
        const at = parseInstant('around', around, now());
        window = { fromNs: at - 3_600_000_000_000n, toNs: at + 3_600_000_000_000n };
      }
      let [spans, logs] = await Promise.all([run(traceSpansQuery(ctx.queries.dialect, traceId, window)), run(traceLogsQuery(ctx.queries.dialect, traceId, window))]);
      if (window && spans.length === 0 && logs.length === 0) [spans, logs] = await Promise.all([run(traceSpansQuery(ctx.queries.dialect, traceId)), run(traceLogsQuery(ctx.queries.dialect, traceId))]);
      if (spans.length === 0 && logs.length === 0) return reply.code(404).send({ error: `no trace ${traceId} in the store (it may have expired)` });
      return buildTrace(traceId, spans.map(jsonRow), logs.map(jsonRow));
    } catch (err) {
      return sendQueryError(reply, err);
    }
  });

  app.get('/api/v1/services', { config: { access: 'read' } }, async (req, reply) => {
    try {
      const range = parseTimeRange(req.query as SearchParams, now(), '1h');
      const rows = (await run(servicesQuery(ctx.queries.dialect, range.fromNs, range.toNs))).map(jsonRow);
      return { from: toIso(range.fromNs), to: toIso(range.toNs), services: rows.map((r) => ({ ...r, last_seen: nsToIso(r.last_seen_ns) })) };
    } catch (err) {
      return sendQueryError(reply, err);
    }
  });

  app.get('/api/v1/service-map', { config: { access: 'read' } }, async (req, reply) => {
    try {
      const range = parseTimeRange(req.query as SearchParams, now(), '1h');
      const edges = (await run(serviceMapQuery(ctx.queries.dialect, range.fromNs, range.toNs))).map(jsonRow);
      const nodes = new Map<string, { id: string; kind: string }>();
      for (const e of edges) {
        nodes.set(String(e.source), { id: String(e.source), kind: 'service' });
        if (!nodes.has(String(e.target))) nodes.set(String(e.target), { id: String(e.target), kind: String(e.target_kind) });
      }
      return { from: toIso(range.fromNs), to: toIso(range.toNs), nodes: [...nodes.values()], edges };
    } catch (err) {
      return sendQueryError(reply, err);
    }
  });
}

const JSON_COLUMNS = new Set(['attributes', 'resource_attributes', 'events', 'links']);

function jsonRow(r: Record<string, unknown>): Record<string, ResultValue> {
  const out: Record<string, ResultValue> = {};
  for (const [k, v] of Object.entries(r)) out[k] = toResultValue(v, JSON_COLUMNS.has(k));
  return out;
}

function toIso(ns: bigint): string {
  return new Date(Number(ns / 1_000_000n)).toISOString();
}

function nsToIso(v: ResultValue): string | null {
  if (v === null) return null;
  return toIso(BigInt(typeof v === 'number' ? Math.trunc(v) : String(v)));
}

/** ISO-8601 with up to nine fractional digits → Unix ns. */
function isoToNs(iso: string): bigint {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z$/.exec(iso);
  if (!m) return 0n;
  const seconds = BigInt(Date.parse(`${m[1]}Z`)) / 1000n;
  return seconds * 1_000_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
}

/** Orders spans depth-first under their parents and marks the critical path. */
function buildTrace(traceId: string, spans: Record<string, ResultValue>[], logs: Record<string, ResultValue>[]): TraceDetail {
  const byId = new Map(spans.map((s) => [String(s.span_id), s]));
  const children = new Map<string, Record<string, ResultValue>[]>();
  const roots: Record<string, ResultValue>[] = [];
  for (const s of spans) {
    const parent = String(s.parent_span_id ?? '');
    if (parent && byId.has(parent)) {
      const list = children.get(parent) ?? [];
      list.push(s);
      children.set(parent, list);
    } else roots.push(s);
  }
  const startNs = spans.reduce((min, s) => (BigInt(String(s.start_ns)) < min ? BigInt(String(s.start_ns)) : min), spans.length ? BigInt(String(spans[0]!.start_ns)) : 0n);
  const endOf = (s: Record<string, ResultValue>) => BigInt(String(s.start_ns)) + BigInt(String(s.duration_ns ?? 0));
  const endNs = spans.reduce((max, s) => (endOf(s) > max ? endOf(s) : max), startNs);

  const critical = criticalPath(spans.map((s) => ({ id: String(s.span_id), parentId: String(s.parent_span_id ?? ''), startNs: BigInt(String(s.start_ns)), endNs: endOf(s), service: String(s.service), kind: String(s.kind) })));

  const ordered: TraceSpan[] = [];
  const visit = (s: Record<string, ResultValue>, depth: number) => {
    ordered.push({
      ...s,
      depth,
      critical: critical.has(String(s.span_id)),
      critical_self_ms: Number(critical.get(String(s.span_id)) ?? 0n) / 1e6,
      offset_ms: Number(BigInt(String(s.start_ns)) - startNs) / 1e6,
      duration_ms: Number(s.duration_ns ?? 0) / 1e6,
    });
    for (const c of children.get(String(s.span_id)) ?? []) visit(c, depth + 1);
  };
  for (const r of roots) visit(r, 0);
  return {
    traceId,
    startTime: spans.length ? nsToIso(spans[0]!.start_ns ?? null) : null,
    durationMs: Number(endNs - startNs) / 1e6,
    services: [...new Set(spans.map((s) => String(s.service)))],
    errorCount: spans.filter((s) => s.status === 'Error').length,
    spans: ordered,
    logs: logs.map((l) => ({ ...l, time: nsToIso(l.time_ns ?? null) })),
  };
}
