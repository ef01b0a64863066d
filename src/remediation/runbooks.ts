/**
 * Runbooks as the API takes and shows them: validation of `RunbookInput` (title, scope, Markdown body,
 * the names of the actions offered) and the stored record as a `Runbook`.
 */
import type { Runbook, RunbookInput, RunbookScope } from '../api/contract.ts';
import type { RunbookRecord } from '../store/state/runbooks.ts';
import { ACTION_NAME } from './actions.ts';
import { RemediationInputError } from './errors.ts';

const MAX_TITLE = 200;
const MAX_SCOPE_VALUE = 200;
// Runbooks are pages of text; 100 000 characters is a long one and bounds what each answer carries.
const MAX_BODY = 100_000;
const MAX_ACTIONS = 50;
const SCOPE_KINDS: readonly RunbookScope['kind'][] = ['service', 'rule', 'general'];

function object(v: unknown, field: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new RemediationInputError(field, 'expected a JSON object');
  return v as Record<string, unknown>;
}

function string(v: unknown, field: string, max: number, required: boolean): string {
  if (v === undefined || v === null) {
    if (required) throw new RemediationInputError(field, 'is required');
    return '';
  }
  if (typeof v !== 'string') throw new RemediationInputError(field, 'expected a string');
  const t = v.trim();
  if (required && t === '') throw new RemediationInputError(field, 'must not be empty');
  if (t.length > max) throw new RemediationInputError(field, `at most ${max} characters`);
  return t;
}

/** Validates a runbook as posted; action names are checked against the stored actions by the service. */
export function parseRunbookInput(body: unknown): Required<RunbookInput> {
  const b = object(body, 'body');
  const title = string(b.title, 'title', MAX_TITLE, true);
  const s = object(b.scope, 'scope');
  const kind = s.kind;
  if (typeof kind !== 'string' || !(SCOPE_KINDS as readonly string[]).includes(kind)) throw new RemediationInputError('scope.kind', `expected one of ${SCOPE_KINDS.join(', ')}`);
  // A general runbook applies to every incident: any value given is meaningless and dropped.
  const value = kind === 'general' ? '' : string(s.value, 'scope.value', MAX_SCOPE_VALUE, true);
  const text = b.body;
  if (typeof text !== 'string') throw new RemediationInputError('body', text === undefined ? 'is required (Markdown)' : 'expected a string (Markdown)');
  if (text.length > MAX_BODY) throw new RemediationInputError('body', `at most ${MAX_BODY} characters`);
  const actions = b.actions ?? [];
  if (!Array.isArray(actions) || actions.some((a) => typeof a !== 'string' || !ACTION_NAME.test(a))) throw new RemediationInputError('actions', 'expected a list of action names (kebab-case, such as restart-api)');
  if (actions.length > MAX_ACTIONS) throw new RemediationInputError('actions', `at most ${MAX_ACTIONS} actions`);
  return { title, scope: { kind: kind as RunbookScope['kind'], value }, body: text, actions: [...new Set(actions as string[])] };
}

/** A stored runbook as the API shows it. */
export function runbookEntry(r: RunbookRecord): Runbook {
  return { id: r.id, title: r.title, scope: r.scope, body: r.body, actions: r.actions, updatedAt: new Date(r.updatedAt).toISOString(), updatedBy: r.updatedBy };
}
