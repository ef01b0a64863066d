/**
 * PostgreSQL checks with the `pg` client: connect to the address the guard checked, run `SELECT 1`
 * or the configured query, report the server version.
 */
import pg from 'pg';
import { resolveAllowed } from '../net/outbound.ts';
import { assertResolvable, down, errorMessage, noPhases, round, type CheckContext, type CheckResult } from './result.ts';
import type { PostgresSpec } from './spec.ts';

/** Connects, runs the query and disconnects. */
export async function checkPostgres(spec: PostgresSpec, ctx: CheckContext): Promise<CheckResult> {
  const started = performance.now();
  let client: pg.Client | undefined;
  try {
    assertResolvable(spec.host);
    const { address } = await resolveAllowed(spec.host, ctx.policy);
    const dnsMs = round(performance.now() - started);
    client = new pg.Client({
      host: address,
      port: spec.port,
      database: spec.database,
      user: spec.user,
      password: spec.password,
      connectionTimeoutMillis: ctx.timeoutMs,
      query_timeout: ctx.timeoutMs,
      statement_timeout: ctx.timeoutMs,
      application_name: 'vigil-monitor',
    });
    // An error after connect (server restart) must not become an unhandled 'error' event.
    client.on('error', () => undefined);
    await client.connect();
    const connectMs = round(performance.now() - started - dnsMs);
    const q0 = performance.now();
    const r = await client.query(spec.query);
    const firstByteMs = round(performance.now() - q0);
    const version = (await client.query('SHOW server_version')).rows[0]?.server_version as string | undefined;
    return {
      ok: true,
      status: 'up',
      latencyMs: round(performance.now() - started),
      phases: { ...noPhases(), dnsMs, connectMs, firstByteMs },
      details: { address, rows: r.rowCount ?? r.rows.length, version },
    };
  } catch (err) {
    return down(performance.now() - started, errorMessage(err) || 'connection failed', noPhases(), { host: spec.host, port: spec.port });
  } finally {
    await client?.end().catch(() => undefined);
  }
}
