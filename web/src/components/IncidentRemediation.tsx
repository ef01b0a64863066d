/**
 * PLACEHOLDER (session 4 contract): filled in by its owner; mounted on the incident page.
 */
import type { IncidentDetail } from '../../../src/api/contract.ts';

/** Props every incident panel gets: the incident and a way to reload it after a change. */
export interface IncidentPanelProps {
  incident: IncidentDetail;
  reload: () => void;
}

/** IncidentRemediation panel. */
export function IncidentRemediation(_props: IncidentPanelProps) {
  return null;
}
