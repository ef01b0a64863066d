/**
 * PLACEHOLDER (owner: H-data) — Error groups and log templates that are new or spiking (Drain).
 */
import type { Detector } from '../types.ts';

/** The `log-patterns` detector. */
export const logPatternsDetector: Detector = {
  name: 'log-patterns',
  description: 'Error groups and log templates that are new or spiking (Drain)',
  async run() {
    return [];
  },
};
