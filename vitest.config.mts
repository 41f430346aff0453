import { defineConfig } from "vitest/config";

// Integration tests start real sshd processes and network namespaces; two workers match the
// two-core CI machines and keep the lab from starving itself.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    pool: "forks",
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ["default", "./scripts/summary-reporter.mts"],
  },
});
