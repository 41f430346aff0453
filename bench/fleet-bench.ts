/**
 * The fleet refresh benchmark, one process per role: a simulator process (lightweight lab), a provider process
 * that creates the fleet, and a fresh provider process that refreshes it twice (cold, then warm connections),
 * whose peak RSS and CPU time are reported. Runs compiled (`npm run bench`: `node build/bench/bench/run.js`).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RefreshResult } from "./fleet";
import type { RefreshWorkerReport } from "./fleet-worker";
import type { SimWorkerOutput } from "./sim-worker";

/** One fleet size's results. */
export interface FleetBenchResult {
  readonly dpus: number;
  readonly groups: number;
  readonly simStartMs: number;
  readonly createMs: number;
  readonly cold: RefreshResult;
  /** The last warm round (request and round-trip counts, latency). */
  readonly warm: RefreshResult;
  /** Every warm round (wall and CPU figures are reported as median and spread over them). */
  readonly warmRounds: readonly RefreshResult[];
  readonly peakRssMb: number;
  readonly cpuMs: { user: number; system: number };
  readonly concurrency: number;
  readonly limits: readonly string[];
}

/** Runs a compiled bench script in its own Node process; resolves with its last stdout line. */
export function runNode(script: string, args: readonly string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(__dirname, script), ...args], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      out += d;
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      err += d;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out.trim().split("\n").pop() ?? "");
      else reject(new Error(`${script} ${args[0] ?? ""} failed (${signal ?? code}): ${err.slice(-2000)}`));
    });
  });
}

/** Starts the simulator process (lightweight lab); resolves once it is ready. */
export async function startSim(n: number, groupSize: number, file: string): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [join(__dirname, "sim-worker.js"), "light", String(n), String(groupSize), file],
    {
      stdio: ["pipe", "pipe", "pipe"],
    },
  );
  let err = "";
  child.stderr?.setEncoding("utf8").on("data", (d: string) => {
    err += d;
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`simulator did not start in 10 min: ${err.slice(-1000)}`)),
      600_000,
    );
    child.once("exit", (c) => reject(new Error(`simulator exited with ${c}: ${err.slice(-2000)}`)));
    child.stdout?.setEncoding("utf8").on("data", (d: string) => {
      if (d.includes("ready")) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  return child;
}

/** Stops the simulator process. */
export async function stopSim(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
  await exited;
  clearTimeout(timer);
}

/** Benchmarks a converged refresh of `n` DPUs (three resources each) on the lightweight lab. */
export async function benchFleet(
  n: number,
  opts: {
    groupSize?: number;
    concurrency?: number;
    /** Warm rounds after the cold one (default 5). */
    warmRounds?: number;
    onProgress?: (m: string) => void;
  } = {},
): Promise<FleetBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), "dpu-bench-fleet-"));
  const simFile = join(dir, "sim.json");
  const statesFile = join(dir, "states.json");
  const concurrency = opts.concurrency ?? 64;
  const say = opts.onProgress ?? (() => {});
  let sim: ChildProcess | undefined;
  try {
    const t0 = performance.now();
    sim = await startSim(n, opts.groupSize ?? 10, simFile);
    const simStartMs = Math.round(performance.now() - t0);
    const simOut = JSON.parse(readFileSync(simFile, "utf8")) as SimWorkerOutput;
    say(`N=${n}: simulator up in ${simStartMs} ms (${simOut.groups} shared OS)`);
    const created = JSON.parse(
      await runNode("fleet-worker.js", ["create", simFile, "0", String(n), statesFile], 3_600_000),
    ) as {
      ms: number;
    };
    say(`N=${n}: fleet created in ${created.ms} ms`);
    const report = JSON.parse(
      await runNode(
        "fleet-worker.js",
        ["refresh", simFile, statesFile, String(1 + (opts.warmRounds ?? 5)), String(concurrency)],
        3_600_000,
      ),
    ) as RefreshWorkerReport;
    const [cold, ...warmRounds] = report.rounds;
    const warm = warmRounds[warmRounds.length - 1];
    if (!cold || !warm) throw new Error("the refresh worker returned fewer than two rounds");
    say(`N=${n}: refresh cold ${cold.wallMs} ms, warm ${warm.wallMs} ms`);
    return {
      dpus: n,
      groups: simOut.groups ?? 0,
      simStartMs,
      createMs: created.ms,
      cold,
      warm,
      warmRounds,
      peakRssMb: report.peakRssMb,
      cpuMs: report.cpuMs,
      concurrency,
      limits: simOut.limits ?? [],
    };
  } finally {
    if (sim) await stopSim(sim);
    rmSync(dir, { recursive: true, force: true });
  }
}
