/**
 * Scale check of the DPU lab: starts N DPUs (default 50, boot time 0), then stops them, and prints the times.
 * Run after `npm run build` as root: `node dist/bench/sim-scale.js [count]`.
 */
import { readdirSync } from "node:fs";
import { startLab } from "../simulator";

async function main(): Promise<number> {
  const count = Number(process.argv[2] ?? 50);
  const t0 = Date.now();
  const lab = await startLab({
    count,
    bootTimeMs: 0,
    profile: "mixed",
    onProgress: (m) => console.log(`[${((Date.now() - t0) / 1000).toFixed(2)} s] ${m}`),
  });
  const started = (Date.now() - t0) / 1000;
  const running = [...lab.dpus.values()].filter((d) => d.backend.running()).length;
  const t1 = Date.now();
  await lab.stop();
  const stopped = (Date.now() - t1) / 1000;
  const left = readdirSync("/run/netns").filter((n) => n.startsWith(`pds${lab.slot}-`));
  console.log(
    JSON.stringify({
      count,
      running,
      startSeconds: started,
      stopSeconds: stopped,
      leftoverNamespaces: left.length,
    }),
  );
  return running === count && left.length === 0 ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  },
);
