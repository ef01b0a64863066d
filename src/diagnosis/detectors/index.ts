/**
 * Every detector diagnosis runs, in one list (the conformance suite in detectors.test.ts runs each).
 */
import type { Detector } from '../types.ts';
import { attributesDetector } from './attributes.ts';
import { availabilityDetector } from './availability.ts';
import { changesDetector } from './changes.ts';
import { dbPoolDetector } from './db-pool.ts';
import { dbStatementsDetector } from './db-statements.ts';
import { dependenciesDetector } from './dependencies.ts';
import { logPatternsDetector } from './log-patterns.ts';
import { operationsDetector } from './operations.ts';
import { resourcesDetector } from './resources.ts';

/** The detectors, in no particular order (they run in parallel). */
export const DETECTORS: readonly Detector[] = [
  operationsDetector,
  attributesDetector,
  availabilityDetector,
  dbStatementsDetector,
  dbPoolDetector,
  logPatternsDetector,
  resourcesDetector,
  changesDetector,
  dependenciesDetector,
];
