/**
 * PLACEHOLDER (owner: H-requests) — Services that stopped reporting or refuse connections.
 */
import type { Detector } from '../types.ts';

/** The `availability` detector. */
export const availabilityDetector: Detector = {
  name: 'availability',
  description: 'Services that stopped reporting or refuse connections',
  async run() {
    return [];
  },
};
