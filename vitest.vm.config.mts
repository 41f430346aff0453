import { defineConfig } from "vitest/config";

// The real-VM proof (QEMU TCG booting the DPU OS ISO): one worker, long timeouts; run with `npm run test:vm`.
export default defineConfig({
  test: {
    include: ["test/vm/**/*.test.ts"],
    pool: "forks",
    // Each test file: its own provider state directory (session records, DpuHost claims).
    setupFiles: ["./test/setup/state-dir.ts"],
    maxWorkers: 1,
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 600_000,
    reporters: ["default", "./scripts/summary-reporter.mts"],
  },
});
