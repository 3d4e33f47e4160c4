import { defineConfig } from 'vitest/config';

// Integration tests (*.int.test.ts) run against the live stack, one file at a time.
export default defineConfig({
  test: {
    include: ['**/src/**/*.int.test.ts', 'test/**/*.int.test.ts'],
    exclude: ['**/node_modules/**'],
    globalSetup: ['./test/integration/global-setup.ts'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
