/**
 * Diagnosis reports on the state store (SQLite and PostgreSQL): one row per run, the report as JSON. The
 * newest run of an incident is the one shown; older runs stay for comparison.
 */
import type { DiagnosisReport, DiagnosisScope } from '../../diagnosis/types.ts';
import type { StateDb } from './db.ts';

type Stored = Omit<DiagnosisReport, 'id' | 'incidentId' | 'state' | 'trigger' | 'startedAt' | 'finishedAt'>;

function parse(text: string): Stored {
  try {
    const v = JSON.parse(text) as Partial<Stored>;
    return { scope: v.scope as DiagnosisScope, hypotheses: v.hypotheses ?? [], detectors: v.detectors ?? [], ...(v.error ? { error: v.error } : {}) };
  } catch {
    return { scope: { services: [], systems: [], onsetMs: 0, window: { fromMs: 0, toMs: 0 }, baseline: { fromMs: 0, toMs: 0 } }, hypotheses: [], detectors: [], error: 'the stored report cannot be read' };
  }
}

/** Stores and reads diagnosis reports. */
export class DiagnosisRepo {
  constructor(private readonly db: StateDb) {}

  /** Records a run that has started; resolves with its id. */
  async start(incidentId: number, trigger: DiagnosisReport['trigger'], startedAt: number, scope: DiagnosisScope): Promise<number> {
    const row = await this.db
      .insertInto('diagnosis_reports')
      .values({ incident_id: incidentId, state: 'running', trigger, started_at: startedAt, finished_at: null, report: JSON.stringify({ scope, hypotheses: [], detectors: [] }) })
      .returning('id')
      .executeTakeFirstOrThrow();
    return Number(row.id);
  }

  /** Stores a finished run. */
  async finish(report: DiagnosisReport): Promise<void> {
    const { scope, hypotheses, detectors, error } = report;
    await this.db
      .updateTable('diagnosis_reports')
      .set({ state: report.state, finished_at: report.finishedAt, report: JSON.stringify({ scope, hypotheses, detectors, ...(error ? { error } : {}) }) })
      .where('id', '=', report.id)
      .execute();
  }

  /** The newest run of an incident. */
  async latest(incidentId: number): Promise<DiagnosisReport | undefined> {
    const r = await this.db.selectFrom('diagnosis_reports').selectAll().where('incident_id', '=', incidentId).orderBy('id', 'desc').limit(1).executeTakeFirst();
    if (!r) return undefined;
    const stored = parse(r.report);
    // A run a stopped Vigil left behind carries no error of its own.
    if (r.state === 'failed' && !stored.error) stored.error = 'Vigil stopped before this diagnosis finished';
    return {
      id: Number(r.id),
      incidentId: Number(r.incident_id),
      state: r.state as DiagnosisReport['state'],
      trigger: r.trigger as DiagnosisReport['trigger'],
      startedAt: Number(r.started_at),
      finishedAt: r.finished_at === null ? null : Number(r.finished_at),
      ...stored,
    };
  }

  /** Marks runs a stopped Vigil left running as failed (called once at start). */
  async failAbandoned(at: number): Promise<number> {
    const res = await this.db
      .updateTable('diagnosis_reports')
      .set({ state: 'failed', finished_at: at })
      .where('state', '=', 'running')
      .executeTakeFirst();
    return Number(res.numUpdatedRows);
  }
}
