import { defineConfig } from 'vitest/config';

// One Vitest run covers every workspace; `@mamori/source` makes internal packages resolve to
// their TypeScript sources, so tests need no build first.
export default defineConfig({
  resolve: { conditions: ['@mamori/source'] },
  ssr: { resolve: { conditions: ['@mamori/source'] } },
  test: {
    include: [
      '{proto,packages/*,services/*,test,load-tests}/test/**/*.test.ts',
      'test/**/*.test.ts',
    ],
    exclude: ['**/node_modules/**', '**/dist/**'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    fileParallelism: true,
    maxWorkers: 2,
  },
});
