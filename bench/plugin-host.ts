/**
 * The real dynamic-provider host for benchmarks: spawns `pulumi-resource-pulumi-nodejs` from a throwaway program
 * directory (as the engine does), finds the Node process serving gRPC (the plugin script is a `sh` wrapper that
 * runs node as its child), and reads that process's CPU time and peak RSS from /proc. With `cpuProfileDir`, the
 * host runs with a preload (host-preload.ts) that profiles it and writes the profile when stopped.
 */
import { type ChildProcess, spawn } from "node:child_process";
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { ProviderClient } from "../engine/provider-client";
import { providerShim } from "../sdk/provider-shim";

/** CPU time (user + system) and peak RSS of one process, from /proc. */
export interface ProcStats {
  /** CPU seconds so far. */
  readonly cpuS: number;
  /** Peak resident set size so far (VmHWM), MiB. */
  readonly peakRssMiB: number;
}

/** USER_HZ on Linux. */
const TICKS_PER_S = 100;

/** utime + stime (+ children's when `withChildren`) of `pid`, seconds. */
export function cpuSecondsOf(pid: number, withChildren = false): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // Fields after the command: state(3) ppid … utime(14) stime(15) cutime(16) cstime(17), here 0-based from 3.
  const n = (i: number) => Number(f[i - 3] ?? 0);
  const ticks = n(14) + n(15) + (withChildren ? n(16) + n(17) : 0);
  return ticks / TICKS_PER_S;
}

/** CPU seconds and peak RSS of `pid`. */
export function procStats(pid: number): ProcStats {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
  return { cpuS: cpuSecondsOf(pid), peakRssMiB: hwm ? Number(hwm[1]) / 1024 : 0 };
}

/** CPU seconds of `root` and every descendant (including reaped children), from /proc. */
export function treeCpuSeconds(root: number): number {
  const parent = new Map<number, number>();
  for (const e of readdirSync("/proc")) {
    const pid = Number(e);
    if (!Number.isInteger(pid)) continue;
    try {
      const s = readFileSync(`/proc/${pid}/stat`, "utf8");
      parent.set(pid, Number(s.slice(s.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      // exited
    }
  }
  let total = 0;
  for (const pid of parent.keys()) {
    let p: number | undefined = pid;
    while (p !== undefined && p > 1 && p !== root) p = parent.get(p);
    if (p !== root) continue;
    try {
      total += cpuSecondsOf(pid, true);
    } catch {
      // exited
    }
  }
  return total;
}

/** A program directory that resolves `@pulumi/pulumi` and `pulumi-dpu` (this repository). */
export function benchProgramDir(root: string): string {
  const dir = mkdtempSync(join(tmpdir(), "dpu-bench-program-"));
  writeFileSync(join(dir, "Pulumi.yaml"), "name: bench\nruntime: nodejs\n");
  writeFileSync(join(dir, "package.json"), '{"name":"bench","private":true}\n');
  mkdirSync(join(dir, "node_modules"));
  symlinkSync(join(root, "node_modules", "@pulumi"), join(dir, "node_modules", "@pulumi"), "dir");
  symlinkSync(root, join(dir, "node_modules", "pulumi-dpu"), "dir");
  return dir;
}

/** A running plugin host. */
export interface BenchHost {
  readonly client: ProviderClient;
  /** The gRPC port the host serves (for callers that need their own client). */
  readonly port: number;
  /** The Node process serving gRPC. */
  readonly nodePid: number;
  /** Spawn → port line, ms. */
  readonly startMs: number;
  stats(): ProcStats;
  /** Starts the CPU profiler (hosts started with `cpuProfileDir` only). */
  startProfile(): void;
  /** Stops the host (SIGTERM to the Node process, then the group) and removes the program directory. */
  close(): Promise<void>;
}

/** Options of {@link startBenchHost}. */
export interface BenchHostOptions {
  /** Write a V8 CPU profile of the host into this directory (`--cpu-prof`). */
  readonly cpuProfileDir?: string;
}

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8")
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/** Spawns the real plugin host and runs Configure, as the engine does before any resource call. */
export async function startBenchHost(root: string, o: BenchHostOptions = {}): Promise<BenchHost> {
  const dir = benchProgramDir(root);
  const script = createRequire(join(dir, "x.js")).resolve("@pulumi/pulumi/pulumi-resource-pulumi-nodejs");
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ""}`,
    PULUMI_NODEJS_PROJECT: "bench",
    PULUMI_PROJECT: "bench",
    PULUMI_NODEJS_STACK: "bench",
    PULUMI_STACK: "bench",
    PULUMI_CONFIG: "{}",
  };
  delete env.NODE_OPTIONS;
  delete env.VITEST;
  delete env.VITEST_WORKER_ID;
  if (o.cpuProfileDir) {
    mkdirSync(o.cpuProfileDir, { recursive: true });
    env.BENCH_CPU_PROF_DIR = o.cpuProfileDir;
    env.NODE_OPTIONS = `--require ${join(__dirname, "host-preload.js")}`;
  }
  const t0 = performance.now();
  const child: ChildProcess = spawn("sh", [script, "127.0.0.1:1"], {
    cwd: dir,
    env,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  child.stderr?.setEncoding("utf8").on("data", (d: string) => {
    err += d;
  });
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const port = await new Promise<number>((resolve, reject) => {
    let buf = "";
    const timer = setTimeout(() => reject(new Error(`host did not start: ${err.slice(0, 500)}`)), 60_000);
    child.once("exit", (c) => reject(new Error(`host exited with ${c}: ${err.slice(0, 500)}`)));
    child.stdout?.setEncoding("utf8").on("data", (d: string) => {
      buf += d;
      const nl = buf.indexOf("\n");
      if (nl < 0) return;
      clearTimeout(timer);
      resolve(Number(buf.slice(0, nl).trim()));
    });
  });
  const startMs = performance.now() - t0;
  const pid = child.pid!;
  const nodePid = childrenOf(pid)[0] ?? pid;
  const client = new ProviderClient(port);
  await client.configure({});
  return {
    client,
    port,
    nodePid,
    startMs,
    stats: () => procStats(nodePid),
    startProfile() {
      if (o.cpuProfileDir) process.kill(nodePid, "SIGUSR2");
    },
    async close() {
      client.close();
      try {
        process.kill(nodePid, "SIGTERM");
      } catch {
        // gone
      }
      const timer = setTimeout(() => {
        try {
          process.kill(-pid, "SIGKILL");
        } catch {
          // gone
        }
      }, 10_000);
      await exited;
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The serialized `__provider` of each resource type, as `pulumi.dynamic.Resource` writes it. */
export async function serializedShims(): Promise<Record<"host" | "underlay" | "workload", string>> {
  const one = async (name: string) =>
    (await pulumi.runtime.serializeFunction(() => providerShim(name), { allowSecrets: true })).text;
  return {
    host: await one("dpuHost"),
    underlay: await one("dpuUnderlay"),
    workload: await one("dpuWorkload"),
  };
}
