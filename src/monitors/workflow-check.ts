/**
 * Multi-step API workflows (log in → take the token → register for a course): requests in sequence,
 * `{{var}}` templates in URL, headers and body, variables extracted from JSON responses, each step
 * judged on its own expectations. The first failing step makes the check down and names the step.
 */
import { getPath, renderTemplate } from './json-path.ts';
import { httpExchange, judge } from './http-check.ts';
import { down, errorMessage, noPhases, round, type CheckContext, type CheckResult, type CheckStatus, type Phases } from './result.ts';
import type { WorkflowSpec } from './spec.ts';

/** Renders templates in every string of a JSON-like value; returns a new value. */
export function renderDeep(value: unknown, vars: Readonly<Record<string, string>>): unknown {
  if (typeof value === 'string') return renderTemplate(value, vars);
  if (Array.isArray(value)) return value.map((v) => renderDeep(v, vars));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renderDeep(v, vars)]));
  return value;
}

/** Outcome of one step, as reported in the details. */
interface StepReport {
  name: string;
  status: CheckStatus;
  statusCode?: number;
  latencyMs: number;
  error?: string;
}

/** Runs a workflow; the check's time budget covers all steps together. */
export async function checkWorkflow(spec: WorkflowSpec, ctx: CheckContext): Promise<CheckResult> {
  const started = performance.now();
  const vars: Record<string, string> = { ...spec.vars };
  const steps: StepReport[] = [];
  let phases: Phases = noPhases();
  let worst: CheckStatus = 'up';
  const warnings: string[] = [];
  for (const step of spec.steps) {
    const remaining = ctx.timeoutMs - (performance.now() - started);
    if (remaining <= 0) return fail(`step "${step.name}": timed out after ${ctx.timeoutMs} ms`);
    let url: string;
    let headers: Record<string, string>;
    let body: string | Record<string, unknown> | unknown[] | undefined;
    try {
      url = renderTemplate(step.url, vars);
      headers = renderDeep(step.headers, vars) as Record<string, string>;
      body = renderDeep(step.body, vars) as typeof body;
    } catch (err) {
      return fail(`step "${step.name}": ${errorMessage(err)}`);
    }
    let ex;
    try {
      ex = await httpExchange({ url, method: step.method, headers, body }, { policy: ctx.policy, timeoutMs: Math.max(1, Math.floor(remaining)), insecureTls: spec.tls.insecure, maxRedirects: 5 });
    } catch (err) {
      steps.push({ name: step.name, status: 'down', latencyMs: round(performance.now() - started), error: errorMessage(err) });
      return fail(`step "${step.name}": ${errorMessage(err)}`);
    }
    if (steps.length === 0) phases = ex.phases;
    const v = judge(ex, step.expect, { now: ctx.now() });
    const problems = [...v.problems];
    if (problems.length === 0 && Object.keys(step.extract).length > 0) {
      let doc: unknown;
      try {
        doc = JSON.parse(ex.body);
      } catch {
        problems.push('body is not JSON, cannot extract variables');
      }
      for (const [name, path] of Object.entries(step.extract)) {
        const value = doc === undefined ? undefined : getPath(doc, path);
        if (value === undefined || value === null) problems.push(`cannot extract ${name}: ${path} is missing`);
        else vars[name] = typeof value === 'string' ? value : JSON.stringify(value);
      }
    }
    const status: CheckStatus = problems.length ? 'down' : v.status;
    steps.push({ name: step.name, status, statusCode: ex.status, latencyMs: ex.latencyMs, ...(problems.length ? { error: problems.join('; ') } : {}) });
    if (status === 'down') return fail(`step "${step.name}": ${problems.join('; ')}`);
    if (status === 'degraded') {
      worst = 'degraded';
      warnings.push(`step "${step.name}": ${v.warnings.join('; ')}`);
    }
  }
  const latencyMs = round(performance.now() - started);
  return { ok: true, status: worst, latencyMs, phases, ...(warnings.length ? { error: warnings.join('; ') } : {}), details: { steps } };

  function fail(message: string): CheckResult {
    return down(performance.now() - started, message, phases, { steps });
  }
}
