/**
 * Stored spans for the evaluation-cost phase of `npm run bench:alerting`: mostly ten busy services,
 * plus a trickle from each rule's own service (svc-K) so every rule's query finds rows without firing.
 */
import { randomBytes } from 'node:crypto';
import type { ResourceInfo, ScopeInfo, SpanRow } from '../../src/model/telemetry.ts';

const SCOPE: ScopeInfo = { name: 'bench', version: '1' };
const ROUTES = ['/api/items', '/api/items/:id', '/api/orders', '/api/login', '/health'];

function resource(name: string): ResourceInfo {
  return { serviceName: name, serviceNamespace: 'bench', serviceVersion: '1.0.0', hostName: `host-${name.length % 4}`, attributes: { 'service.name': name } };
}

/**
 * Spans of `total` over [fromMs, toMs), in time order: each rule service `perRuleServicePerMinute`
 * spans a minute, the ten busy services the rest.
 */
export function* benchSpans(total: number, rules: number, fromMs: number, toMs: number, perRuleServicePerMinute = 2, batch = 50_000): Generator<SpanRow[]> {
  const busy = Array.from({ length: 10 }, (_, i) => resource(`busy-${i}`));
  const ruleServices = Array.from({ length: rules }, (_, k) => resource(`svc-${k}`));
  const minutes = (toMs - fromMs) / 60_000;
  const ruleSpans = Math.min(total, Math.round(rules * perRuleServicePerMinute * minutes));
  // One rule-service span every `ruleEvery` spans spreads them evenly over time.
  const ruleEvery = ruleSpans > 0 ? total / ruleSpans : Infinity;
  const stepNs = ((toMs - fromMs) * 1e6) / total;
  const fromNs = BigInt(fromMs) * 1_000_000n;
  let hex = '';
  let at = 0;
  const id = (chars: number) => {
    if (at + chars > hex.length) {
      hex = randomBytes(1 << 20).toString('hex');
      at = 0;
    }
    at += chars;
    return hex.slice(at - chars, at);
  };
  let nextRule = 0;
  let ruleIndex = 0;
  let out: SpanRow[] = [];
  for (let i = 0; i < total; i++) {
    let res: ResourceInfo;
    if (i >= nextRule && ruleIndex < ruleSpans) {
      res = ruleServices[ruleIndex++ % rules]!;
      nextRule += ruleEvery;
    } else res = busy[i % busy.length]!;
    const failed = i % 37 === 0;
    const route = ROUTES[i % ROUTES.length]!;
    out.push({
      startTimeNs: fromNs + BigInt(Math.floor(i * stepNs)),
      durationNs: BigInt(1_000_000 + ((i * 7919) % 80_000_000)),
      traceId: id(32),
      spanId: id(16),
      parentSpanId: '',
      traceState: '',
      name: `GET ${route}`,
      kind: 'Server',
      statusCode: failed ? 'Error' : 'Unset',
      statusMessage: '',
      resource: res,
      scope: SCOPE,
      attributes: { 'http.request.method': 'GET', 'http.route': route, 'http.response.status_code': failed ? 500 : 200 },
      events: [],
      links: [],
    });
    if (out.length === batch) {
      yield out;
      out = [];
    }
  }
  if (out.length > 0) yield out;
}
