/**
 * PLACEHOLDER (owner: H-requests) — Operation latency and error deltas against the baseline (4xx and 5xx apart).
 */
import type { Detector } from '../types.ts';

/** The `operations` detector. */
export const operationsDetector: Detector = {
  name: 'operations',
  description: 'Operation latency and error deltas against the baseline (4xx and 5xx apart)',
  async run() {
    return [];
  },
};
