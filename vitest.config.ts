import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // Integration tests listen on ephemeral loopback ports; forks keep each file's servers apart.
    pool: 'forks',
  },
});
