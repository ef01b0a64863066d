/**
 * PLACEHOLDER (owner: H-infra) — Failing or slow downstream dependencies along the service map, including callers that time out first.
 */
import type { Detector } from '../types.ts';

/** The `dependencies` detector. */
export const dependenciesDetector: Detector = {
  name: 'dependencies',
  description: 'Failing or slow downstream dependencies along the service map, including callers that time out first',
  async run() {
    return [];
  },
};
