import { defineConfig } from 'vitest/config';

// Tests talk to the machine's real Redis and PostgreSQL; each file uses its own key prefix and
// database, so files run in parallel. Timeouts are generous because CI machines are noisy.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 3,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
