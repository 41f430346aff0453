/**
 * Benchmark (not a timed test): Redfish requests DpuHost sends on a simulated generic DPU, counted by the BMC
 * (server side, request-log.ts):
 * - per read() of a converged DPU (target ≤ 2);
 * - per provisioning: in total, and before the boot wait (up to and including the reset), on a fresh BMC
 *   (create) and on re-image (update to another image, discovery kept in state): targets ≤ 6 and ≤ 3.
 * Run as root after `npm run build && npx tsc -p tsconfig.bench.json`: `node build/bench/bench/dpu-host-requests.js`; prints one JSON line.
 */
import { setLogSink } from "../provider/log";
import { closeAllPools } from "../provider/redfish";
import { type DpuHostOutputs, dpuHost } from "../provider/resources/dpu-host";
import { sshPool } from "../provider/ssh";
import { startLab } from "../simulator";
import { hostInputs } from "./lab";
import { portOf, splitAtReset, startRequestLog } from "./request-log";

/** Request targets of DpuHost (issue 15). */
export const DPU_HOST_REQUEST_TARGETS = {
  /** Redfish requests per read() of a converged DPU. */
  perRead: 2,
  /** Requests before the boot wait on a fresh BMC (create). */
  freshBeforeBootWait: 6,
  /** Requests before the boot wait on re-image (update with another image). */
  reimageBeforeBootWait: 3,
} as const;

/** What the benchmark counted. */
export interface DpuHostRequestCounts {
  /** create: every request, including the boot-wait polls. */
  readonly createTotal: number;
  /** create: requests up to and including the reset. */
  readonly createBeforeBootWait: number;
  /** update to another image: every request. */
  readonly reimageTotal: number;
  /** update to another image: requests up to and including the reset. */
  readonly reimageBeforeBootWait: number;
  /** Median gap between the provider's polls after the reset, ms (undefined: no poll). */
  readonly pollGapMs: number | undefined;
  readonly requestsPerRead: number;
}

/** Runs the benchmark and returns the counts (`ssh`: with the SSH readiness probe, default true). */
export async function benchDpuHostRequests(o: { ssh?: boolean } = {}): Promise<DpuHostRequestCounts> {
  const restore = setLogSink(() => undefined);
  const lab = await startLab({ count: 1, profile: "generic", bootTimeMs: 300 });
  const log = startRequestLog();
  try {
    const port = portOf(lab.endpoints.dpus[0]!.bmc.url);
    const ssh = o.ssh ?? true;
    const t0 = performance.now();
    const created = await dpuHost.create!(hostInputs(lab.endpoints, 0, "dpu-os-1.1.iso", { ssh }));
    const t1 = performance.now();
    const updated = await dpuHost.update!(
      created.id,
      created.outs as DpuHostOutputs,
      hostInputs(lab.endpoints, 0, "dpu-os-2.0.iso", { ssh }),
    );
    const t2 = performance.now();
    const outs = {
      ...(created.outs as DpuHostOutputs),
      ...((updated.outs ?? {}) as Partial<DpuHostOutputs>),
    };
    const reads = 5;
    for (let i = 0; i < reads; i++) await dpuHost.read!(created.id, outs as DpuHostOutputs);
    const t3 = performance.now();
    const c = splitAtReset(log.forPort(port, t0, t1));
    const u = splitAtReset(log.forPort(port, t1, t2));
    return {
      createTotal: c.total,
      createBeforeBootWait: c.beforeBootWait,
      reimageTotal: u.total,
      reimageBeforeBootWait: u.beforeBootWait,
      pollGapMs: c.pollGapMs,
      requestsPerRead: log.forPort(port, t2, t3).length / reads,
    };
  } finally {
    log.stop();
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
