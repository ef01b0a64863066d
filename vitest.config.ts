import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'demo/**/*.test.ts', 'web/src/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests start real servers on fixed-free ports; files run in parallel processes.
    pool: 'forks',
    // Most files wait on servers, browsers and timers more than they compute: at least two at a time
    // (Vitest's default, one fewer than the cores, runs them one by one on a 2-core machine).
    maxWorkers: Math.max(2, availableParallelism() - 1),
  },
});
