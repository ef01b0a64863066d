/**
 * PLACEHOLDER (owner: H-infra) — Saturated CPU, memory and disk of the hosts and processes involved.
 */
import type { Detector } from '../types.ts';

/** The `resources` detector. */
export const resourcesDetector: Detector = {
  name: 'resources',
  description: 'Saturated CPU, memory and disk of the hosts and processes involved',
  async run() {
    return [];
  },
};
