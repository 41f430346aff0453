/**
 * Benchmark (not a timed test): Redfish requests DpuHost sends on a simulated generic DPU.
 * - per read() of a converged DPU (target ≤ 2);
 * - per provisioning, against the minimal DMTF sequence (root, systems, system, slot, eject, insert, boot PATCH,
 *   reset, a few polls, eject, clear, logout).
 * Run as root after `npm run build && npx tsc -p tsconfig.bench.json`: `node build/bench/bench/dpu-host-requests.js`; prints one JSON line.
 */
import { setLogSink } from "../provider/log";
import { closeAllPools } from "../provider/redfish";
import { type DpuHostOutputs, dpuHost } from "../provider/resources/dpu-host";
import { sshPool } from "../provider/ssh";
import { startLab } from "../simulator";
import { hostInputs } from "./lab";

function total(r: Readonly<Record<string, number>>): number {
  return Object.values(r).reduce((a, b) => a + b, 0);
}

/** Runs the benchmark and returns the counts. */
export async function benchDpuHostRequests(): Promise<Record<string, number>> {
  const restore = setLogSink(() => undefined);
  const lab = await startLab({ count: 1, profile: "generic", bootTimeMs: 300 });
  try {
    const bmc = [...lab.dpus.values()][0]!.bmc;
    const news = hostInputs(lab.endpoints, 0, "dpu-os-1.1.iso");
    const r0 = total(bmc.snapshot().requests);
    const created = await dpuHost.create!(news);
    const r1 = total(bmc.snapshot().requests);
    const reads = 5;
    for (let i = 0; i < reads; i++) await dpuHost.read!(created.id, created.outs as DpuHostOutputs);
    const r2 = total(bmc.snapshot().requests);
    const minimal = 14;
    return { provisionRequests: r1 - r0, minimalSequence: minimal, requestsPerRead: (r2 - r1) / reads };
  } finally {
    restore();
    await sshPool.closeAll();
    await closeAllPools();
    await lab.stop();
  }
}

if (require.main === module) {
  benchDpuHostRequests().then(
    (r) => process.stdout.write(`${JSON.stringify(r)}\n`),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
