/**
 * PLACEHOLDER (owner: H-requests) — Attribute values over-represented in slow or failed spans against normal ones (BubbleUp).
 */
import type { Detector } from '../types.ts';

/** The `attributes` detector. */
export const attributesDetector: Detector = {
  name: 'attributes',
  description: 'Attribute values over-represented in slow or failed spans against normal ones (BubbleUp)',
  async run() {
    return [];
  },
};
