import { defineConfig } from "vitest/config";

// Issue #7's proofs: the fault matrix, the 200-DPU load test, secret hygiene and the bench smoke run. Heavy on
// two cores, so they run on their own (npm run test:proof) rather than inside npm test.
export default defineConfig({
  test: {
    include: ["test/faults/**/*.test.ts", "test/secrets/**/*.test.ts", "test/bench/**/*.test.ts"],
    pool: "forks",
    maxWorkers: 1,
    testTimeout: 300_000,
    hookTimeout: 300_000,
    reporters: ["default", "./scripts/summary-reporter.mts"],
  },
});
