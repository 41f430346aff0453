/**
 * The simulator side of a benchmark, in its own process so the provider process measures only itself:
 * `node sim-worker.js light <count> <groupSize> <endpoints.json>` (lightweight lab) or
 * `node sim-worker.js full <count> <bootTimeMs> <endpoints.json>`. Writes the endpoints (plus `light`
 * details), prints `ready`, and stops the lab on SIGTERM/SIGINT or when stdin closes.
 */
import { writeFileSync } from "node:fs";
import { type Lab, LIGHT_LAB_LIMITS, startLab, startLightLab } from "../simulator";

/** What the worker writes: the endpoints file plus how data ports are named. */
export interface SimWorkerOutput {
  readonly endpoints: Lab["endpoints"];
  readonly mode: "light" | "full";
  readonly groups?: number;
  readonly limits?: readonly string[];
  readonly pid: number;
}

async function main(): Promise<void> {
  const [mode, countArg, extraArg, out] = process.argv.slice(2);
  if ((mode !== "light" && mode !== "full") || !countArg || !extraArg || !out) {
    throw new Error("usage: sim-worker light|full <count> <groupSize|bootTimeMs> <endpoints.json>");
  }
  const count = Number(countArg);
  const lab =
    mode === "light"
      ? await startLightLab({ count, groupSize: Number(extraArg) })
      : await startLab({ count, bootTimeMs: Number(extraArg) });
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    lab.stop().then(
      () => process.exit(0),
      (e: unknown) => {
        process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  process.stdin.on("end", stop);
  process.stdin.on("close", stop);
  process.stdin.resume();
  const output: SimWorkerOutput = {
    endpoints: lab.endpoints,
    mode,
    ...("groups" in lab ? { groups: (lab as { groups: number }).groups, limits: LIGHT_LAB_LIMITS } : {}),
    pid: process.pid,
  };
  writeFileSync(out, JSON.stringify(output), { mode: 0o600 });
  process.stdout.write("ready\n");
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
