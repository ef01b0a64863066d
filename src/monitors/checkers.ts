/**
 * The checker of each monitor type. Push monitors have no network check: they are judged from the
 * last heartbeat, which the scheduler passes in.
 */
import { checkDns } from './dns-check.ts';
import { checkHttp } from './http-check.ts';
import { checkMysql } from './mysql-check.ts';
import { checkPostgres } from './postgres-check.ts';
import { judgeHeartbeat } from './push.ts';
import { checkRedis } from './redis-check.ts';
import { scrubResult } from './secrets.ts';
import type { CheckContext, CheckResult } from './result.ts';
import type { MonitorSpec } from './spec.ts';
import { checkTcp } from './tcp-check.ts';
import { checkWorkflow } from './workflow-check.ts';
import { parseDuration } from '../config/config.ts';

/** The last heartbeat of a push monitor, and since when the monitor has been watched. */
export interface HeartbeatInput {
  last: { at: number; status: 'up' | 'down'; message?: string } | undefined;
  startedAt: number;
}

/**
 * Runs the check of any monitor type. The result has URL credentials and the definition's secrets
 * masked, so whatever records or returns it (state, history, telemetry, the API) holds none.
 */
export async function runCheck(spec: MonitorSpec, ctx: CheckContext, heartbeat?: HeartbeatInput): Promise<CheckResult> {
  return scrubResult(spec, await check(spec, ctx, heartbeat));
}

function check(spec: MonitorSpec, ctx: CheckContext, heartbeat?: HeartbeatInput): Promise<CheckResult> {
  switch (spec.type) {
    case 'http':
      return checkHttp(spec, ctx);
    case 'workflow':
      return checkWorkflow(spec, ctx);
    case 'tcp':
      return checkTcp(spec, ctx);
    case 'dns':
      return checkDns(spec, ctx);
    case 'postgres':
      return checkPostgres(spec, ctx);
    case 'mysql':
      return checkMysql(spec, ctx);
    case 'redis':
      return checkRedis(spec, ctx);
    case 'push':
      return Promise.resolve(
        judgeHeartbeat(heartbeat?.last, { intervalMs: parseDuration(spec.interval), graceMs: parseDuration(spec.grace), now: ctx.now().getTime(), startedAt: heartbeat?.startedAt ?? ctx.now().getTime() }),
      );
  }
}
