/**
 * rms-api: the Royalty Management System. Imports usage reports, calculates royalties per period, pays rights holders
 * through the payment gateway, and serves statements. Run as a child of the supervisor, or alone for debugging:
 * `PORT=4501 node --import tsx demo/rms/main.ts`.
 */
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { openDb, type Db } from '../db.ts';
import { runService, type Route } from '../service.ts';
import { HttpError, makeClient } from '../telemetry.ts';
import { CREATE_USAGE_INDEX, ensureSeeded, PERIODS, USAGE_INDEX } from './schema.ts';

const VERSION = process.env.SERVICE_VERSION ?? '1.4.2';
const GATEWAY_URL = process.env.PAYMENT_GATEWAY_URL ?? 'http://127.0.0.1:4502';
/** How long a payout may take before the batch gives up on it. */
const GATEWAY_TIMEOUT_MS = Number(process.env.DEMO_GATEWAY_TIMEOUT_MS ?? 2500);

const UsageReport = z.object({
  source: z.string().min(1).max(64),
  period: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'period must be YYYY-MM'),
  records: z
    .array(
      z.object({
        workId: z.number().int().positive(),
        territory: z.string().length(2),
        units: z.number().int().nonnegative(),
        revenue: z.number().nonnegative(),
      }),
    )
    .min(1)
    .max(1000),
});
const PeriodBody = z.object({ period: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'period must be YYYY-MM') });
const BatchBody = PeriodBody.extend({ limit: z.number().int().min(1).max(20).default(5) });

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const r = schema.safeParse(body);
  if (!r.success) throw new HttpError(400, r.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '), 'validation_failed');
  return r.data;
}

const num = (v: unknown) => Number(v ?? 0);

await runService({ name: 'rms-api', namespace: 'rms', version: VERSION }, async ({ telemetry, log, volumeDir, processFaults }) => {
  const { tracer, meter } = telemetry;
  const db: Db = await openDb({
    file: path.join(volumeDir, 'rms.db'),
    url: process.env.DEMO_DATABASE_URL || undefined,
    schema: 'demo_rms',
    tracer,
    meter,
  });
  await ensureSeeded(db, (m) => log.info(m));
  const gateway = makeClient(tracer, meter, 'payment-gateway', () => GATEWAY_URL);
  const paid = meter.createCounter('rms.payments', { unit: '{payment}', description: 'Payouts attempted, by outcome' });
  const royalties = meter.createCounter('rms.royalties.amount', { unit: 'USD', description: 'Royalties calculated' });

  const routes: Route[] = [
    { method: 'GET', route: '/health', handler: () => ({ body: { status: 'ok', version: VERSION } }) },
    { method: 'GET', route: '/api/periods', handler: () => ({ body: { periods: PERIODS } }) },
    {
      method: 'GET',
      route: '/api/rights-holders',
      handler: async (req) => {
        const q = req.query.get('q') ?? '';
        const rows = await db.all('SELECT id, name, kind, country FROM rights_holders WHERE name LIKE ? ORDER BY id LIMIT 50', [`%${q}%`]);
        return { body: { rightsHolders: rows } };
      },
    },
    {
      method: 'GET',
      route: '/api/works/:id',
      handler: async (req) => {
        const row = await db.get('SELECT id, title, iswc, rights_holder_id, rate, genre FROM works WHERE id = ?', [Number(req.params.id)]);
        if (!row) throw new HttpError(404, `work ${req.params.id} not found`, 'not_found');
        return { body: row };
      },
    },
    {
      method: 'POST',
      route: '/api/usage-reports',
      handler: async (req) => {
        const report = parse(UsageReport, req.body);
        processFaults.assertWritable();
        const id = await db.transaction(async (tx) => {
          const maxWork = await tx.get<{ n: number }>('SELECT MAX(id) AS n FROM works');
          const unknown = report.records.find((r) => r.workId > num(maxWork?.n));
          if (unknown) throw new HttpError(400, `unknown work id ${unknown.workId}`, 'unknown_work');
          const row = await tx.get<{ id: number }>('INSERT INTO usage_reports (source, period, received_at, record_count) VALUES (?, ?, ?, ?) RETURNING id', [
            report.source,
            report.period,
            new Date().toISOString(),
            report.records.length,
          ]);
          const reportId = num(row?.id);
          for (const r of report.records) {
            const raw = `${report.source.toUpperCase()}|${report.period}|${r.territory}|W${r.workId}|${r.units}|${r.revenue.toFixed(2)}|USD|std-v2`;
            await tx.run('INSERT INTO usage_records (report_id, work_id, period, territory, source, units, revenue, raw_line) VALUES (?, ?, ?, ?, ?, ?, ?, ?)', [
              reportId,
              r.workId,
              report.period,
              r.territory,
              report.source,
              r.units,
              r.revenue,
              raw,
            ]);
          }
          return reportId;
        });
        log.info(`imported usage report ${id} from ${report.source} for ${report.period}: ${report.records.length} records`, { 'rms.report.id': id, 'rms.period': report.period });
        return { status: 201, body: { id, records: report.records.length } };
      },
    },
    {
      method: 'POST',
      route: '/api/royalties/calculate',
      handler: async (req) => {
        const { period } = parse(PeriodBody, req.body);
        const started = performance.now();
        // The heart of the RMS: usage × rate per rights holder for one period. Uses idx_usage_period_work.
        const lines = await db.all<{ holder_id: number; name: string; records: number; units: number; amount: number }>(
          `SELECT rh.id AS holder_id, rh.name AS name, t.records AS records, t.units AS units, t.amount AS amount
             FROM (SELECT w.rights_holder_id AS holder_id, COUNT(*) AS records, SUM(u.units) AS units, SUM(u.units * w.rate) AS amount
                     FROM usage_records u
                     JOIN works w ON w.id = u.work_id
                    WHERE u.period = ?
                    GROUP BY w.rights_holder_id) t
             JOIN rights_holders rh ON rh.id = t.holder_id`,
          [period],
        );
        if (!lines.length) throw new HttpError(404, `no usage for period ${period}`, 'no_usage');
        const total = lines.reduce((s, l) => s + num(l.amount), 0);
        const records = lines.reduce((s, l) => s + num(l.records), 0);
        const runId = await db.transaction(async (tx) => {
          const run = await tx.get<{ id: number }>('INSERT INTO royalty_runs (period, calculated_at, holders, records, total_amount) VALUES (?, ?, ?, ?, ?) RETURNING id', [
            period,
            new Date().toISOString(),
            lines.length,
            records,
            Math.round(total * 100) / 100,
          ]);
          return num(run?.id);
        });
        royalties.add(total, { 'rms.period.kind': 'monthly' });
        const ms = Math.round(performance.now() - started);
        log.info(`royalty run ${runId} for ${period}: ${lines.length} rights holders, ${records} usage records, total ${total.toFixed(2)} USD in ${ms} ms`, {
          'rms.run.id': runId,
          'rms.period': period,
        });
        const top = [...lines].sort((a, b) => num(b.amount) - num(a.amount)).slice(0, 5);
        return { body: { runId, period, holders: lines.length, records, total: Math.round(total * 100) / 100, top } };
      },
    },
    {
      method: 'POST',
      route: '/api/payments/batches',
      handler: async (req) => {
        const { period, limit } = parse(BatchBody, req.body);
        const run = await db.get<{ id: number }>('SELECT id FROM royalty_runs WHERE period = ? ORDER BY id DESC LIMIT 1', [period]);
        if (!run) throw new HttpError(409, `no royalty run for ${period}: calculate first`, 'not_calculated');
        // Pay the largest outstanding amounts of the run; a line is materialised from the aggregate when first paid.
        const pending = await db.all<{ holder_id: number; account: string; amount: number; units: number }>(
          `SELECT rh.id AS holder_id, rh.payee_account AS account, SUM(u.units * w.rate) AS amount, SUM(u.units) AS units
             FROM usage_records u
             JOIN works w ON w.id = u.work_id
             JOIN rights_holders rh ON rh.id = w.rights_holder_id
            WHERE u.period = ? AND rh.id NOT IN (SELECT l.rights_holder_id FROM royalty_lines l WHERE l.run_id = ?)
            GROUP BY rh.id, rh.payee_account
            ORDER BY amount DESC
            LIMIT ?`,
          [period, num(run.id), limit],
        );
        const batchId = `PB-${randomUUID().slice(0, 8)}`;
        const results = await Promise.all(
          pending.map(async (p) => {
            const amount = Math.round(num(p.amount) * 100) / 100;
            const line = await db.get<{ id: number }>('INSERT INTO royalty_lines (run_id, rights_holder_id, units, amount, paid) VALUES (?, ?, ?, ?, 0) RETURNING id', [
              num(run.id),
              p.holder_id,
              num(p.units),
              amount,
            ]);
            let status = 'failed';
            let ref: string | null = null;
            let error: string | undefined;
            try {
              const res = await gateway<{ id: string; status: string; message?: string }>('/v1/payouts', '/v1/payouts', {
                body: { payee: p.account, amount, currency: 'USD', reference: `${batchId}/${num(line?.id)}` },
                timeoutMs: GATEWAY_TIMEOUT_MS,
              });
              if (res.status < 300) {
                status = res.body.status;
                ref = res.body.id;
              } else {
                status = res.status === 402 ? 'declined' : 'failed';
                error = res.body.message ?? `gateway answered ${res.status}`;
              }
            } catch (err) {
              error = (err as Error).message;
              log.error(`payout for rights holder ${p.holder_id} failed: ${error}`, { 'rms.batch.id': batchId, 'exception.type': (err as Error).name });
            }
            await db.run('INSERT INTO payments (batch_id, line_id, rights_holder_id, amount, status, gateway_ref, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)', [
              batchId,
              num(line?.id),
              p.holder_id,
              amount,
              status,
              ref,
              new Date().toISOString(),
            ]);
            if (status === 'settled') await db.run('UPDATE royalty_lines SET paid = 1 WHERE id = ?', [num(line?.id)]);
            paid.add(1, { 'rms.payment.status': status });
            return { rightsHolderId: p.holder_id, amount, status, gatewayRef: ref, error };
          }),
        );
        const failed = results.filter((r) => r.status === 'failed');
        if (failed.length && failed.length === results.length) {
          throw new HttpError(502, `payment batch ${batchId} failed: ${failed[0]?.error ?? 'payment gateway error'}`, 'gateway_failed');
        }
        log.info(`payment batch ${batchId} for ${period}: ${results.length - failed.length}/${results.length} payouts accepted`, { 'rms.batch.id': batchId });
        return { status: 201, body: { batchId, period, payouts: results } };
      },
    },
    {
      method: 'GET',
      route: '/api/rights-holders/:id/statement',
      handler: async (req) => {
        const holderId = Number(req.params.id);
        const period = req.query.get('period') ?? (PERIODS[PERIODS.length - 1] as string);
        if (!/^\d{4}-\d{2}$/.test(period)) throw new HttpError(400, 'period must be YYYY-MM', 'validation_failed');
        const holder = await db.get<{ id: number; name: string }>('SELECT id, name, kind, country FROM rights_holders WHERE id = ?', [holderId]);
        if (!holder) throw new HttpError(404, `rights holder ${req.params.id} not found`, 'not_found');
        const works = await db.all(
          `SELECT w.id AS work_id, w.title AS title, SUM(u.units) AS units, SUM(u.units * w.rate) AS amount
             FROM works w JOIN usage_records u ON u.work_id = w.id AND u.period = ?
            WHERE w.rights_holder_id = ?
            GROUP BY w.id, w.title
            ORDER BY amount DESC`,
          [period, holderId],
        );
        const payments = await db.all('SELECT batch_id, amount, status, created_at FROM payments WHERE rights_holder_id = ? ORDER BY id DESC LIMIT 20', [holderId]);
        return { body: { rightsHolder: holder, period, works, payments } };
      },
    },
  ];

  return {
    routes,
    controls: {
      async fault(name, on) {
        if (name !== 'rms-slow-query') return false;
        // Someone "cleaned up unused indexes": the calculation and statements fall back to full scans.
        await db.exec(on ? `DROP INDEX IF EXISTS ${USAGE_INDEX}` : CREATE_USAGE_INDEX);
        return true;
      },
      async remediate(action) {
        if (action !== 'recreate-index') return null;
        await db.exec(CREATE_USAGE_INDEX);
        log.info(`index ${USAGE_INDEX} recreated`);
        return `index ${USAGE_INDEX} recreated`;
      },
      close: () => db.close(),
    },
  };
});
