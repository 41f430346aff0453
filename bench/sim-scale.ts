/**
 * Scale of the DPU lab itself: starts N full DPUs (default 50; each a namespace with its own sshd, a BMC, ports
 * on the ToR), then stops them and counts what is left. Part of `npm run bench` (`--only lab`); also runs on
 * its own after `npm run build`, as root: `npx tsc -p tsconfig.bench.json && node build/bench/bench/sim-scale.js [count]`.
 */
import { readdirSync } from "node:fs";
import { startLab } from "../simulator";

/** Result of {@link benchSimScale}. */
export interface SimScaleResult {
  readonly count: number;
  /** DPUs whose OS was running once the lab was ready. */
  readonly running: number;
  readonly startSeconds: number;
  readonly stopSeconds: number;
  /** Namespaces of the lab's slot left after stop (expected 0). */
  readonly leftoverNamespaces: number;
  /** Host links of the lab's slot left after stop (expected 0). */
  readonly leftoverLinks: number;
}

/** Starts and stops a lab of `count` DPUs (boot time 0, mixed profiles) and reports the times. */
export async function benchSimScale(count = 50, onProgress?: (m: string) => void): Promise<SimScaleResult> {
  const t0 = Date.now();
  const lab = await startLab({
    count,
    bootTimeMs: 0,
    profile: "mixed",
    ...(onProgress
      ? { onProgress: (m: string) => onProgress(`[${((Date.now() - t0) / 1000).toFixed(2)} s] ${m}`) }
      : {}),
  });
  const startSeconds = (Date.now() - t0) / 1000;
  const running = [...lab.dpus.values()].filter((d) => d.backend.running()).length;
  const t1 = Date.now();
  await lab.stop();
  const stopSeconds = (Date.now() - t1) / 1000;
  const prefix = `pds${lab.slot}`;
  return {
    count,
    running,
    startSeconds,
    stopSeconds,
    leftoverNamespaces: readdirSync("/run/netns").filter((n) => n.startsWith(`${prefix}-`)).length,
    leftoverLinks: readdirSync("/sys/class/net").filter((n) => n.startsWith(prefix)).length,
  };
}

if (require.main === module) {
  benchSimScale(Number(process.argv[2] ?? 50), (m) => console.log(m)).then(
    (r) => {
      console.log(JSON.stringify(r));
      process.exitCode = r.running === r.count && r.leftoverNamespaces + r.leftoverLinks === 0 ? 0 : 1;
    },
    (e: unknown) => {
      console.error(e);
      process.exitCode = 1;
    },
  );
}
