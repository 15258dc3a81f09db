import { defineConfig } from 'vitest/config';

// `npm run test:chaos`: fault-injection tests with several hub processes each, on the machine's
// Redis and PostgreSQL (plus a private redis-server for the restart test). One file at a time:
// they load the machine on purpose, and must not starve each other into timeouts.
export default defineConfig({
  test: {
    include: ['test/chaos/**/*.chaos.ts'],
    pool: 'forks',
    fileParallelism: false,
    maxWorkers: 1,
    testTimeout: 150_000,
    hookTimeout: 90_000,
    reporters: ['default'],
  },
});
