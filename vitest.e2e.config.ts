import { defineConfig } from 'vitest/config'

// End-to-end tests: real Chromium (playwright-core) against browser mode (`deberta-lab serve`).
// They need the built app (`npm run build`) and a browser: CHROMIUM_PATH, else /usr/bin/chromium.
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.e2e.test.ts'],
    environment: 'node',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    fileParallelism: false,
    globalSetup: ['test/e2e/global-setup.ts'],
    // on a failure: the lab's log, sessions and jobs and a screenshot of each page (test/e2e/failure-report.ts)
    setupFiles: ['test/e2e/failure-report.ts'],
  },
})
