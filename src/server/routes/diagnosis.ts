/**
 * `GET /api/v1/incidents/{id}/diagnosis`: the newest diagnosis report of an incident (404 until one ran);
 * `POST` runs a new one (202 with the running report; the one running is returned if there is one).
 * Shapes: `DiagnosisResponse` in src/api/contract.ts; docs/diagnosis.md.
 */
import type { FastifyInstance } from 'fastify';
import type { DiagnosisEvidence, DiagnosisHypothesis, DiagnosisResponse } from '../../api/contract.ts';
import type { DiagnosisService } from '../../diagnosis/service.ts';
import type { DiagnosisReport, Evidence, Hypothesis } from '../../diagnosis/types.ts';
import type { AuditLog } from '../../store/state/audit.ts';
import { auditChange } from './alerting.ts';
import { idParam, notFound } from './incidents.ts';

/** What the routes need. */
export interface DiagnosisRouteContext {
  diagnosis: DiagnosisService;
  audit: AuditLog;
}

const iso = (ms: number) => new Date(ms).toISOString();

function evidenceOut(e: Evidence): DiagnosisEvidence {
  return {
    detector: e.detector,
    category: e.category,
    component: e.component,
    services: e.services,
    role: e.role,
    score: Math.round(e.score * 100) / 100,
    summary: e.summary,
    onsetAt: e.onsetMs === undefined ? null : iso(e.onsetMs),
    figures: e.figures,
    links: e.links,
    nextStep: e.nextStep ?? null,
  };
}

function hypothesisOut(h: Hypothesis): DiagnosisHypothesis {
  return { ...h, evidence: h.evidence.map(evidenceOut) };
}

/** A stored report as the API answers it. */
export function diagnosisResponse(r: DiagnosisReport): DiagnosisResponse {
  const s = r.scope;
  return {
    id: r.id,
    incidentId: r.incidentId,
    state: r.state,
    trigger: r.trigger,
    startedAt: iso(r.startedAt),
    finishedAt: r.finishedAt === null ? null : iso(r.finishedAt),
    scope: {
      services: s.services,
      systems: s.systems,
      onsetAt: iso(s.onsetMs),
      window: { from: iso(s.window.fromMs), to: iso(s.window.toMs) },
      baseline: { from: iso(s.baseline.fromMs), to: iso(s.baseline.toMs) },
    },
    hypotheses: r.hypotheses.map(hypothesisOut),
    detectors: r.detectors,
    ...(r.error ? { error: r.error } : {}),
  };
}

/** Registers the diagnosis routes. */
export function registerDiagnosisRoutes(app: FastifyInstance, ctx: DiagnosisRouteContext): void {
  app.get('/api/v1/incidents/:id/diagnosis', { config: { access: 'read' } }, async (req, reply) => {
    const id = idParam(req);
    if (id === undefined) return notFound(reply, req);
    const report = await ctx.diagnosis.latest(id);
    if (!report) return reply.code(404).send({ error: `incident ${id} has not been diagnosed yet (or does not exist): POST to this address to run a diagnosis` });
    return diagnosisResponse(report);
  });

  app.post('/api/v1/incidents/:id/diagnosis', { config: { access: 'write', audited: true }, bodyLimit: 1024 }, async (req, reply) => {
    const id = idParam(req);
    if (id === undefined) return notFound(reply, req);
    const started = await ctx.diagnosis.start(id, 'manual');
    if (!started) return notFound(reply, req);
    await auditChange(ctx.audit, req, 'incident.diagnosed', `incident:${id}`, { report: started.report.id });
    return reply.code(202).send(diagnosisResponse(started.report));
  });
}
