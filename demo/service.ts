/**
 * The skeleton every demo service runs on: a tiny JSON router on node:http with a SERVER span and a duration
 * histogram per request, process-level fault behaviours (CPU, memory, disk), and the IPC channel through which the
 * supervisor flips faults. Faults travel over IPC rather than HTTP so no control route ever shows up in telemetry.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes } from '@opentelemetry/api';
import { demoLog, HttpError, recordFailure, setupTelemetry, type DemoLog, type ServiceIdentity, type Telemetry } from './telemetry.ts';
import { ProcessFaults } from './process-faults.ts';

/** A parsed request as handlers see it. */
export interface Req {
  method: string;
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  body: unknown;
  headers: http.IncomingHttpHeaders;
}

/** A handler's answer; status defaults to 200. */
export interface Res {
  status?: number;
  body: unknown;
}

/** One route: `route` is a template like `/api/courses/:id`. */
export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  route: string;
  handler: (req: Req) => Promise<Res> | Res;
}

/** Hooks a service gives the runtime for its own faults and remediations. */
export interface ServiceControls {
  /** Turns a service-specific fault on or off; returns false when the name is not this service's. */
  fault?(name: string, on: boolean): Promise<boolean> | boolean;
  /** Runs a remediation action; returns a human-readable result, or null when unknown here. */
  remediate?(action: string): Promise<string | null> | string | null;
  /** Extra state for the supervisor's /status. */
  status?(): Record<string, unknown>;
  close?(): Promise<void> | void;
}

/** Messages the supervisor sends to a service over IPC. */
export type ControlMessage =
  | { id: number; type: 'fault'; name: string; on: boolean }
  | { id: number; type: 'remediate'; action: string }
  | { id: number; type: 'status' }
  | { id: number; type: 'shutdown' };

/** Replies a service sends back over IPC. */
export type ControlReply =
  | { type: 'ready'; port: number; version: string }
  | { type: 'reply'; id: number; ok: boolean; result?: unknown; error?: string };

/** What a service module builds before the runtime starts listening. */
export interface ServiceDefinition {
  routes: Route[];
  controls?: ServiceControls;
}

/** Context given to a service's factory: telemetry handles, its log, and its data volume. */
export interface ServiceContext {
  telemetry: Telemetry;
  log: DemoLog;
  identity: ServiceIdentity;
  processFaults: ProcessFaults;
  volumeDir: string;
}

interface CompiledRoute extends Route {
  regex: RegExp;
  keys: string[];
}

function compile(route: Route): CompiledRoute {
  const keys: string[] = [];
  const pattern = route.route.replace(/:([A-Za-z_]+)/g, (_m, key: string) => {
    keys.push(key);
    return '([^/]+)';
  });
  return { ...route, regex: new RegExp(`^${pattern}/?$`), keys };
}

async function readBody(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 5_000_000) throw new HttpError(413, 'request body too large');
    chunks.push(chunk as Buffer);
  }
  if (!size) return undefined;
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'request body is not valid JSON', 'invalid_json');
  }
}

/**
 * Starts a service: telemetry first (so the factory's DB setup is traced), then the factory, then the HTTP server on
 * `PORT` (0 = ephemeral). Tells the supervisor its port over IPC when it has a parent.
 */
export async function runService(
  identity: ServiceIdentity,
  factory: (ctx: ServiceContext) => Promise<ServiceDefinition> | ServiceDefinition,
): Promise<{ port: number; close(): Promise<void> }> {
  const telemetry = setupTelemetry(identity);
  const log = demoLog(telemetry.logger);
  const volumeDir = process.env.DEMO_VOLUME_DIR ?? `${process.env.DEMO_DATA_DIR ?? './data/demo'}/${identity.name}`;
  const processFaults = new ProcessFaults(telemetry.meter, volumeDir, log);
  const def = await factory({ telemetry, log, identity, processFaults, volumeDir });
  const routes = def.routes.map(compile);
  const { tracer, meter } = telemetry;

  const duration = meter.createHistogram('http.server.request.duration', {
    unit: 's',
    description: 'Duration of HTTP server requests',
    advice: { explicitBucketBoundaries: [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10] },
  });
  const active = meter.createUpDownCounter('http.server.active_requests', { unit: '{request}' });

  const server = http.createServer((req, res) => {
    const started = performance.now();
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = req.method ?? 'GET';
    let match: { route: CompiledRoute; params: Record<string, string> } | undefined;
    for (const r of routes) {
      if (r.method !== method) continue;
      const m = r.regex.exec(url.pathname);
      if (m) {
        const params: Record<string, string> = {};
        r.keys.forEach((k, i) => (params[k] = decodeURIComponent(m[i + 1] ?? '')));
        match = { route: r, params };
        break;
      }
    }
    const routeName = match?.route.route;
    const attributes: Attributes = {
      'http.request.method': method,
      'url.path': url.pathname,
      'url.scheme': 'http',
      'server.address': '127.0.0.1',
      'server.port': (server.address() as AddressInfo).port,
      'network.protocol.version': req.httpVersion,
    };
    if (routeName) attributes['http.route'] = routeName;
    if (url.search) attributes['url.query'] = url.search.slice(1);
    if (req.headers['user-agent']) attributes['user_agent.original'] = req.headers['user-agent'];
    if (req.socket.remoteAddress) attributes['client.address'] = req.socket.remoteAddress;
    // Continue the caller's trace when it sent a traceparent.
    const parent = propagation.extract(ROOT_CONTEXT, req.headers);
    const activeAttrs: Attributes = { 'http.request.method': method, 'url.scheme': 'http' };
    active.add(1, activeAttrs);
    const span = tracer.startSpan(routeName ? `${method} ${routeName}` : method, { kind: SpanKind.SERVER, attributes }, parent);
    void context.with(trace.setSpan(parent, span), async () => {
      let status = 200;
      let payload: unknown;
      try {
        if (!match) throw new HttpError(404, `no route for ${method} ${url.pathname}`, 'not_found');
        const body = await readBody(req);
        const out = await match.route.handler({ method, path: url.pathname, params: match.params, query: url.searchParams, body, headers: req.headers });
        status = out.status ?? 200;
        payload = out.body;
      } catch (err) {
        if (err instanceof HttpError) {
          status = err.status;
          payload = { error: err.code ?? 'error', message: err.message };
          if (status >= 500) {
            recordFailure(span, err);
            log.error(`${method} ${routeName ?? url.pathname} failed: ${err.message}`, { 'http.route': routeName ?? '', 'http.response.status_code': status, 'error.type': err.code ?? 'error' });
          } else {
            log.warn(`${method} ${routeName ?? url.pathname} rejected: ${err.message}`, { 'http.route': routeName ?? '', 'http.response.status_code': status });
          }
        } else {
          status = 500;
          const e = err instanceof Error ? err : new Error(String(err));
          payload = { error: 'internal_error', message: e.message };
          recordFailure(span, e);
          log.error(`Unhandled ${e.name} in ${method} ${routeName ?? url.pathname}: ${e.message}`, {
            'exception.type': e.name,
            'exception.message': e.message,
            'exception.stacktrace': e.stack ?? '',
            'http.route': routeName ?? '',
          });
        }
      }
      span.setAttribute('http.response.status_code', status);
      // Per semconv a SERVER span is an error only for 5xx; 4xx are the client's problem.
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      const text = JSON.stringify(payload ?? null);
      if (!res.destroyed) {
        res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
        res.end(text);
      }
      span.end();
      active.add(-1, activeAttrs);
      const metricAttrs: Attributes = { 'http.request.method': method, 'http.response.status_code': status, 'url.scheme': 'http' };
      if (routeName) metricAttrs['http.route'] = routeName;
      if (status >= 500) metricAttrs['error.type'] = String(status);
      duration.record((performance.now() - started) / 1000, metricAttrs);
    });
  });
  server.keepAliveTimeout = 5000;

  const port = Number(process.env.PORT ?? 0);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const actualPort = (server.address() as AddressInfo).port;
  log.info(`${identity.name} ${identity.version} listening on 127.0.0.1:${actualPort}`, { 'server.port': actualPort });

  let closing = false;
  const close = async () => {
    if (closing) return;
    closing = true;
    processFaults.stopAll();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    await def.controls?.close?.();
    await telemetry.shutdown();
  };

  if (process.send) {
    process.on('message', (raw: unknown) => {
      void handleControl(raw as ControlMessage);
    });
    // The supervisor died: do not linger as an orphan.
    process.on('disconnect', () => {
      void close().finally(() => process.exit(0));
    });
    send({ type: 'ready', port: actualPort, version: identity.version });
  }
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    process.once(sig, () => {
      void close().finally(() => process.exit(0));
    });
  }

  async function handleControl(msg: ControlMessage): Promise<void> {
    try {
      let result: unknown;
      if (msg.type === 'fault') {
        const handled = processFaults.set(msg.name, msg.on) || (await def.controls?.fault?.(msg.name, msg.on));
        if (!handled) throw new Error(`${identity.name} does not know fault ${msg.name}`);
        result = { name: msg.name, on: msg.on };
      } else if (msg.type === 'remediate') {
        result = processFaults.remediate(msg.action) ?? (await def.controls?.remediate?.(msg.action));
        if (result == null) throw new Error(`${identity.name} does not know remediation ${msg.action}`);
      } else if (msg.type === 'status') {
        result = { ...processFaults.status(), ...def.controls?.status?.(), version: identity.version, port: actualPort, rssBytes: process.memoryUsage.rss() };
      } else if (msg.type === 'shutdown') {
        await close();
        send({ type: 'reply', id: msg.id, ok: true });
        process.exit(0);
      }
      send({ type: 'reply', id: msg.id, ok: true, result });
    } catch (err) {
      send({ type: 'reply', id: msg.id, ok: false, error: err instanceof Error ? err.message : String(err) });
    }
  }

  return { port: actualPort, close };
}

function send(msg: ControlReply): void {
  process.send?.(msg);
}

