/**
 * payment-gateway: the RMS's payout provider. Accepts payouts, "settles" them after a short processing delay, and
 * writes an audit trail to Splunk HEC with the official `splunk-logging` client (the way many payment teams ship
 * audit logs), besides its OpenTelemetry traces, metrics and logs.
 */
import os from 'node:os';
import { randomUUID } from 'node:crypto';
import splunk from 'splunk-logging';
import { trace } from '@opentelemetry/api';
import { runService } from '../service.ts';
import { HttpError } from '../telemetry.ts';
import { sleep } from '../random.ts';

const VERSION = process.env.SERVICE_VERSION ?? '3.1.0';

/** HEC audit client: batches for 2 s or 50 events, whichever first. */
function auditLog() {
  const token = process.env.VIGIL_TOKEN ?? '';
  const logger = new splunk.Logger({
    token,
    url: (process.env.VIGIL_HEC_URL ?? 'http://127.0.0.1:8088').replace(/\/+$/, ''),
    batchInterval: 2000,
    maxBatchCount: 50,
    maxRetries: 1,
  });
  // A receiver that is down must not crash or spam the gateway: the audit trail is best effort in the demo.
  logger.error = () => undefined;
  // splunk-logging only copies time/host/source/sourcetype/index into the HEC envelope; add indexed `fields`.
  const makeBody = logger._makeBody.bind(logger);
  logger._makeBody = (ctx) => ({ ...makeBody(ctx), fields: ctx.fields });
  return {
    send(severity: 'info' | 'warn' | 'error', message: Record<string, unknown>) {
      const spanCtx = trace.getActiveSpan()?.spanContext();
      logger.send({
        message,
        severity,
        metadata: { host: os.hostname(), source: 'payment-gateway', sourcetype: 'payments:audit', index: 'main' },
        fields: {
          'service.name': 'payment-gateway',
          'service.namespace': 'rms',
          'service.version': VERSION,
          'deployment.environment': 'demo',
          severity,
          ...(spanCtx ? { trace_id: spanCtx.traceId, span_id: spanCtx.spanId } : {}),
        },
      });
    },
    flush: () => new Promise<void>((resolve) => logger.flush(() => resolve())),
  };
}

interface Payout {
  id: string;
  payee: string;
  amount: number;
  currency: string;
  reference: string;
  status: 'settled' | 'declined';
  createdAt: string;
}

await runService({ name: 'payment-gateway', namespace: 'rms', version: VERSION }, ({ telemetry, log }) => {
  const audit = auditLog();
  const payouts = new Map<string, Payout>();
  const settled = telemetry.meter.createCounter('payment.payouts', { unit: '{payout}', description: 'Payouts by outcome' });
  /** Extra processing delay when the acquirer is slow (the latency fault), in ms. */
  let slow = false;

  return {
    routes: [
      { method: 'GET', route: '/health', handler: () => ({ body: { status: 'ok' } }) },
      {
        method: 'POST',
        route: '/v1/payouts',
        handler: async (req) => {
          const b = (req.body ?? {}) as Record<string, unknown>;
          if (typeof b.payee !== 'string' || typeof b.amount !== 'number' || b.amount <= 0 || typeof b.reference !== 'string') {
            throw new HttpError(400, 'payee, amount > 0 and reference are required', 'invalid_payout');
          }
          // Normal acquirer round trip 20-60 ms; a degraded one takes seconds.
          await sleep(slow ? 1800 + Math.random() * 3500 : 20 + Math.random() * 40);
          const declined = b.payee.endsWith('7') && Math.random() < 0.3;
          const payout: Payout = {
            id: `po_${randomUUID().replaceAll('-', '').slice(0, 16)}`,
            payee: b.payee,
            amount: b.amount,
            currency: typeof b.currency === 'string' ? b.currency : 'USD',
            reference: b.reference,
            status: declined ? 'declined' : 'settled',
            createdAt: new Date().toISOString(),
          };
          if (payouts.size > 5000) payouts.clear();
          payouts.set(payout.id, payout);
          settled.add(1, { 'payment.status': payout.status });
          audit.send(declined ? 'warn' : 'info', { action: 'payout', payout_id: payout.id, payee: payout.payee, amount: payout.amount, currency: payout.currency, status: payout.status, reference: payout.reference });
          if (declined) {
            log.warn(`payout ${payout.id} to ${payout.payee} declined by issuer`, { 'payment.id': payout.id });
            return { status: 402, body: { id: payout.id, status: 'declined', message: 'payee account declined the transfer' } };
          }
          log.info(`payout ${payout.id} settled: ${payout.amount} ${payout.currency} to ${payout.payee}`, { 'payment.id': payout.id });
          return { status: 201, body: payout };
        },
      },
      {
        method: 'GET',
        route: '/v1/payouts/:id',
        handler: (req) => {
          const p = payouts.get(req.params.id ?? '');
          if (!p) throw new HttpError(404, 'payout not found', 'not_found');
          return { body: p };
        },
      },
    ],
    controls: {
      fault(name, on) {
        if (name !== 'rms-payment-gateway-latency') return false;
        slow = on;
        return true;
      },
      status: () => ({ payouts: payouts.size }),
      close: () => audit.flush(),
    },
  };
});
