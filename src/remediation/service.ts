/**
 * Remediation (DESIGN.md §9, issue 14 §6): runbooks and actions, what applies to an incident, and
 * runs of an action — rendered from the incident and the responder's input, sent through the outbound
 * guard, and recorded on the incident's timeline (`action_run`). Auditing is the API's job (it knows
 * the request); everything else lives here so that the API, CLI and jobs share it.
 */
import type { ActionRunResponse, IncidentRemediationResponse, RemediationAction, Runbook } from '../api/contract.ts';
import type { IncidentService } from '../incidents/service.ts';
import type { OutboundPolicy } from '../net/outbound.ts';
import type { SecretBox } from '../security/secrets.ts';
import type { ActionRecord, ActionRepo } from '../store/state/actions.ts';
import type { RunbookRecord, RunbookRepo } from '../store/state/runbooks.ts';
import { actionEntry, actionWrite, checkRunInput, incidentTemplateView, parseActionInput, previewOf, renderRequest, templateFields, type RenderedRequest } from './actions.ts';
import { ActionNameTakenError, RemediationInputError } from './errors.ts';
import { parseRunbookInput, runbookEntry } from './runbooks.ts';
import { sendRequest, type CallOutcome } from './run.ts';

/** What the service needs. */
export interface RemediationDeps {
  runbooks: RunbookRepo;
  actions: ActionRepo;
  secrets: SecretBox;
  incidents: Pick<IncidentService, 'view' | 'record'>;
  /** The outbound policy (`config.outbound`) every run goes through. */
  policy: OutboundPolicy;
  /** Vigil's external URL, for `{{ .Incident.URL }}`. */
  externalUrl: () => string;
  now?: () => number;
}

/** A run prepared for confirmation or sending. */
export interface PreparedRun {
  action: ActionRecord;
  input: Record<string, string>;
  request: RenderedRequest;
}

/** Why a run could not be prepared: the incident or the action is unknown. */
export type NotFound = { missing: 'incident' | 'action' };

/** Runbooks, actions and their runs. */
export class RemediationService {
  private readonly now: () => number;

  constructor(private readonly deps: RemediationDeps) {
    this.now = deps.now ?? Date.now;
  }

  // ---- runbooks ----

  async listRunbooks(filter: { service?: string; rule?: string } = {}): Promise<Runbook[]> {
    return (await this.deps.runbooks.list(filter)).map(runbookEntry);
  }

  async getRunbook(id: number): Promise<Runbook | undefined> {
    const r = await this.deps.runbooks.get(id);
    return r ? runbookEntry(r) : undefined;
  }

  /** Creates a runbook from a posted body; returns it. */
  async createRunbook(body: unknown, actor: string): Promise<Runbook> {
    const input = await this.checkedRunbook(body);
    const id = await this.deps.runbooks.insert({ ...input, updatedAt: this.now(), updatedBy: actor });
    return (await this.getRunbook(id))!;
  }

  /** Replaces a runbook; undefined when there is none. */
  async updateRunbook(id: number, body: unknown, actor: string): Promise<Runbook | undefined> {
    const input = await this.checkedRunbook(body);
    if (!(await this.deps.runbooks.update(id, { ...input, updatedAt: this.now(), updatedBy: actor }))) return undefined;
    return this.getRunbook(id);
  }

  deleteRunbook(id: number): Promise<boolean> {
    return this.deps.runbooks.delete(id);
  }

  private async checkedRunbook(body: unknown) {
    const input = parseRunbookInput(body);
    const known = new Set((await this.deps.actions.byNames(input.actions)).map((a) => a.name));
    const missing = input.actions.filter((n) => !known.has(n));
    if (missing.length) throw new RemediationInputError('actions', `no action named ${missing.map((n) => `"${n}"`).join(', ')}: create it first`);
    return input;
  }

  // ---- actions ----

  async listActions(): Promise<RemediationAction[]> {
    return (await this.deps.actions.list()).map(actionEntry);
  }

  async getAction(id: number): Promise<RemediationAction | undefined> {
    const a = await this.deps.actions.get(id);
    return a ? actionEntry(a) : undefined;
  }

  /** Creates an action from a posted body (secrets sealed); a taken name throws {@link ActionNameTakenError}. */
  async createAction(body: unknown, actor: string): Promise<RemediationAction> {
    const input = parseActionInput(body);
    if (await this.deps.actions.getByName(input.name)) throw new ActionNameTakenError(input.name);
    const id = await this.deps.actions.insert(actionWrite(input, this.deps.secrets, actor, this.now()));
    return (await this.getAction(id))!;
  }

  /**
   * Replaces an action; undefined when there is none. `<secret>` header values keep the current ones.
   * The name cannot change: runbooks and timelines refer to actions by name.
   */
  async updateAction(id: number, body: unknown, actor: string): Promise<RemediationAction | undefined> {
    const input = parseActionInput(body);
    const current = await this.deps.actions.get(id);
    if (!current) return undefined;
    if (input.name !== current.name) throw new RemediationInputError('name', `cannot change (runbooks and timelines refer to "${current.name}"): create a new action instead`);
    await this.deps.actions.update(id, actionWrite(input, this.deps.secrets, actor, this.now(), current));
    return this.getAction(id);
  }

  deleteAction(id: number): Promise<boolean> {
    return this.deps.actions.delete(id);
  }

  // ---- incidents ----

  /**
   * What applies to an incident: runbooks of its services, of its linked alerts' alertnames, and the
   * general ones; the actions those runbooks offer, then the actions of its services. Undefined for an
   * unknown incident.
   */
  async forIncident(incidentId: number): Promise<IncidentRemediationResponse | undefined> {
    const view = await this.deps.incidents.view(incidentId);
    if (!view) return undefined;
    const rules = view.alerts.map((a) => a.labels.alertname).filter((n): n is string => typeof n === 'string' && n !== '');
    const runbooks: RunbookRecord[] = await this.deps.runbooks.matching({ services: view.services, rules, general: true });
    const offered = [...new Set(runbooks.flatMap((r) => r.actions))];
    const all = await this.deps.actions.list();
    const byName = new Map(all.map((a) => [a.name, a]));
    const actions: ActionRecord[] = offered.flatMap((n) => byName.get(n) ?? []);
    for (const a of all) if (!offered.includes(a.name) && a.services.some((s) => view.services.includes(s))) actions.push(a);
    return { runbooks: runbooks.map(runbookEntry), actions: actions.map(actionEntry) };
  }

  /** Renders a run of an action on an incident (input checked); NotFound when either is unknown. */
  async prepare(incidentId: number, name: string, rawInput: unknown): Promise<PreparedRun | NotFound> {
    const view = await this.deps.incidents.view(incidentId);
    if (!view) return { missing: 'incident' };
    const action = await this.deps.actions.getByName(name);
    if (!action) return { missing: 'action' };
    const input = checkRunInput(action, rawInput);
    const url = `${this.deps.externalUrl().replace(/\/+$/, '')}/incidents/${incidentId}`;
    const fields = templateFields(incidentTemplateView(incidentId, view, url), input);
    return { action, input, request: renderRequest(action, fields, this.deps.secrets) };
  }

  /** Sends a prepared run and records it on the incident's timeline as `actor`. */
  async run(incidentId: number, prepared: PreparedRun, actor: string): Promise<ActionRunResponse> {
    const outcome: CallOutcome = await sendRequest(prepared.request, { policy: this.deps.policy, timeoutMs: prepared.action.timeoutMs });
    await this.deps.incidents.record(
      incidentId,
      { kind: 'action_run', action: prepared.action.name, actionId: prepared.action.id, input: prepared.input, ok: outcome.ok, status: outcome.status, result: outcome.result, ms: outcome.ms },
      actor,
    );
    return { ...outcome, request: previewOf(prepared.request) };
  }
}
