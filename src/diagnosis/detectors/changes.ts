/**
 * PLACEHOLDER (owner: H-infra) — Deploys, configuration changes and out-of-band writes shortly before the onset.
 */
import type { Detector } from '../types.ts';

/** The `changes` detector. */
export const changesDetector: Detector = {
  name: 'changes',
  description: 'Deploys, configuration changes and out-of-band writes shortly before the onset',
  async run() {
    return [];
  },
};
