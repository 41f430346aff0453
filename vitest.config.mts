import { defineConfig } from "vitest/config";

// Integration tests start real sshd processes and network namespaces; two workers match the
// two-core CI machines and keep the lab from starving itself.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Not in npm test: the QEMU VM proof (npm run test:vm) and the fault matrix, load, secret-hygiene and
    // bench-smoke suites of issue #7 (npm run test:proof), which together with the rest overran the CI budget on
    // two cores; they run on their own until they are made lighter.
    exclude: ["test/vm/**", "test/faults/**", "test/secrets/**", "test/bench/**", "**/node_modules/**"],
    pool: "forks",
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ["default", "./scripts/summary-reporter.mts"],
  },
});
