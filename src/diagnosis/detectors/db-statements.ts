/**
 * PLACEHOLDER (owner: H-data) — Database statements whose time grew most and their share of the regression.
 */
import type { Detector } from '../types.ts';

/** The `db-statements` detector. */
export const dbStatementsDetector: Detector = {
  name: 'db-statements',
  description: 'Database statements whose time grew most and their share of the regression',
  async run() {
    return [];
  },
};
