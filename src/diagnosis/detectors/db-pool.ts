/**
 * PLACEHOLDER (owner: H-data) — Connection pools at their limit, waiting requests and failing connects.
 */
import type { Detector } from '../types.ts';

/** The `db-pool` detector. */
export const dbPoolDetector: Detector = {
  name: 'db-pool',
  description: 'Connection pools at their limit, waiting requests and failing connects',
  async run() {
    return [];
  },
};
