/**
 * The provider process of the fleet benchmark (one per phase, so peak RSS is the provider's own):
 * - `node fleet-worker.js create <sim.json> <from> <to> <states.json>` creates DPUs [from, to) (all three
 *   resources each) and writes their states;
 * - `node fleet-worker.js refresh <sim.json> <states.json> <rounds>` refreshes the fleet `rounds` times (the
 *   first on cold connections, the rest warm) and prints the results with the process's peak RSS and CPU time.
 * The last stdout line is one JSON document.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { setLogSink } from "../provider/log";
import { closeAllPools } from "../provider/redfish";
import {
  createFleet,
  type FleetEntry,
  fleetProviders,
  type PortsOf,
  type RefreshResult,
  refreshFleet,
} from "./fleet";
import type { SimWorkerOutput } from "./sim-worker";

/** What `refresh` prints. */
export interface RefreshWorkerReport {
  readonly rounds: RefreshResult[];
  readonly peakRssMb: number;
  readonly cpuMs: { user: number; system: number };
}

/** Data ports of DPU `i` for the simulator mode. */
export function portsFor(sim: SimWorkerOutput): PortsOf {
  return sim.mode === "light" ? (i) => [`p0d${i}`, `p1d${i}`] : () => ["p0", "p1"];
}

async function main(): Promise<void> {
  const restore = setLogSink(() => undefined);
  const [cmd, simFile, ...rest] = process.argv.slice(2);
  if (!simFile) throw new Error("usage: fleet-worker create|refresh <sim.json> …");
  const sim = JSON.parse(readFileSync(simFile, "utf8")) as SimWorkerOutput;
  const fp = fleetProviders();
  try {
    if (cmd === "create") {
      const [from, to, statesFile] = rest;
      if (from === undefined || to === undefined || !statesFile)
        throw new Error("create <sim> <from> <to> <states>");
      const indices = Array.from({ length: Number(to) - Number(from) }, (_, k) => Number(from) + k);
      const t0 = performance.now();
      // Workloads declared stopped: 1,000 process supervisors (each polls once a second) on the two cores the
      // simulator shares with the provider would load the machine by themselves; see bench/README.md.
      const entries = await createFleet(sim.endpoints, indices, portsFor(sim), fp, 32, {
        workloadStopped: true,
      });
      writeFileSync(statesFile, JSON.stringify(entries), { mode: 0o600 });
      process.stdout.write(
        `${JSON.stringify({ created: entries.length, ms: Math.round(performance.now() - t0) })}\n`,
      );
    } else if (cmd === "refresh") {
      const [statesFile, roundsArg, concArg] = rest;
      if (!statesFile) throw new Error("refresh <sim> <states> [rounds] [concurrency]");
      const entries = JSON.parse(readFileSync(statesFile, "utf8")) as FleetEntry[];
      const rounds: RefreshResult[] = [];
      const cpu0 = process.cpuUsage();
      for (let r = 0; r < Number(roundsArg ?? 2); r++) {
        rounds.push(await refreshFleet(sim.endpoints, entries, fp, Number(concArg ?? 64)));
      }
      const cpu = process.cpuUsage(cpu0);
      const report: RefreshWorkerReport = {
        rounds,
        peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
        cpuMs: { user: Math.round(cpu.user / 1000), system: Math.round(cpu.system / 1000) },
      };
      process.stdout.write(`${JSON.stringify(report)}\n`);
    } else {
      throw new Error(`unknown command ${cmd}`);
    }
  } finally {
    await fp.close();
    await closeAllPools();
    restore();
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
