import { defineConfig } from "vitest/config";

// Integration tests start real sshd processes and network namespaces; two workers match the
// two-core CI machines and keep the lab from starving itself.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The QEMU VM proof has its own config and command (npm run test:vm, also run by .ci/run): it needs QEMU
    // and a DPU OS image build, and its guests want the two cores to themselves.
    exclude: ["test/vm/**", "**/node_modules/**"],
    pool: "forks",
    // Each test file: its own provider state directory (session records, DpuHost claims).
    setupFiles: ["./test/setup/state-dir.ts"],
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ["default", "./scripts/summary-reporter.mts"],
  },
});
