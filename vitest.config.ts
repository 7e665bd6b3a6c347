import { defineConfig } from 'vitest/config';

// Unit tests live beside their subjects; cross-process tests live in test/. Cross-process files
// each start their own redis-server and processes, so they run with limited parallelism on small
// machines to avoid starving each other.
export default defineConfig({
  test: {
    reporters: ['default', './test/summary-reporter.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['{shared,sim,api,worker,cli}/src/**/*.test.ts', 'ui/lib/**/*.test.ts'],
          environment: 'node',
          testTimeout: 20_000,
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/**/*.test.ts'],
          environment: 'node',
          testTimeout: 120_000,
          hookTimeout: 180_000,
          maxWorkers: 2,
          sequence: { groupOrder: 1 },
          fileParallelism: true,
        },
      },
    ],
  },
});
