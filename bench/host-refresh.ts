/**
 * A refresh of a fleet the way the engine drives it: every resource's Read sent over gRPC to the real
 * `pulumi-resource-pulumi-nodejs` host (K hosts for K stacks refreshing in parallel), against the lightweight
 * lab in its own process. Measured per round, separately: wall time; the host's own CPU seconds and peak RSS
 * (/proc of the Node process serving gRPC); the CPU the simulated DPUs spent (the simulator process tree: BMCs,
 * sshd, the read scripts); the driver's CPU (this process, the engine's stand-in). Redfish requests are counted
 * by the BMCs. The first round opens every connection (cold); the others reuse them (warm).
 */
import type { ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PropertyMap } from "../engine/wire";
import { type ProfileSummary, summarizeProfile } from "./cpu-profile";
import { FLEET_KINDS, type FleetEntry, type FleetKind, machineBusyMs } from "./fleet";
import { runNode, startSim, stopSim } from "./fleet-bench";
import { repoRoot } from "./host-overhead";
import { mapPool, redfishRequestsServed } from "./lab";
import { type BenchHost, serializedShims, startBenchHost, treeCpuSeconds } from "./plugin-host";
import type { SimWorkerOutput } from "./sim-worker";
import { type LoadWindow, type Spread, sampleLoad, spread } from "./stats";

/** One refresh round of one stack (one host). */
export interface StackRound {
  readonly wallS: number;
  readonly hostCpuS: number;
  readonly reads: number;
  readonly failures: number;
}

/** One refresh round of every stack at once. */
export interface RefreshRound {
  /** Wall time until the last stack finished, s. */
  readonly wallS: number;
  /** CPU seconds of all hosts together. */
  readonly hostCpuS: number;
  /** CPU seconds of the simulated DPUs (simulator process tree: BMCs, sshd, read scripts). */
  readonly dpuCpuS: number;
  /** CPU seconds of the driver (this process: the engine's side of gRPC). */
  readonly driverCpuS: number;
  /** Busy CPU seconds of the whole machine (every process, including other users'). */
  readonly machineCpuS: number;
  readonly reads: number;
  readonly failures: number;
  readonly failureSamples: readonly string[];
  readonly redfishPerHostRead: number;
  readonly stacks: readonly StackRound[];
}

/** What the benchmark measured. */
export interface HostRefreshResult {
  readonly dpus: number;
  readonly stacks: number;
  readonly concurrencyPerStack: number;
  readonly hostStartMs: readonly number[];
  readonly cold: RefreshRound;
  readonly warm: readonly RefreshRound[];
  /** Resources whose read state differs from the declaration after the last round (Diff through the host). */
  readonly drifted: number;
  /** Peak RSS of each host, MiB. */
  readonly peakRssMiB: readonly number[];
  /** Over the warm rounds. */
  readonly summary: {
    readonly wallS: Spread;
    readonly hostCpuS: Spread;
    /** Host CPU per warm read, ms. */
    readonly hostCpuPerReadMs: Spread;
    readonly dpuCpuS: Spread;
    readonly driverCpuS: Spread;
  };
  readonly load: LoadWindow;
  readonly profile?: ProfileSummary;
}

/** Options of {@link benchHostRefresh}. */
export interface HostRefreshOptions {
  /** Stacks (host processes) refreshing in parallel, each a contiguous slice of the fleet. Default 1. */
  readonly stacks?: number;
  /** Warm rounds after the cold one. Default 5. */
  readonly warmRounds?: number;
  /** Reads in flight per stack. Default 64. */
  readonly concurrency?: number;
  readonly groupSize?: number;
  /** Profile the (first) host with `--cpu-prof` into this directory. */
  readonly cpuProfileDir?: string;
  readonly onProgress?: (m: string) => void;
}

const TYPE = "pulumi-nodejs:dynamic:Resource";

function target(kind: FleetKind, index: number) {
  const name = `${kind}-${index}`;
  return { urn: `urn:pulumi:bench::bench::${TYPE}::${name}`, type: TYPE, name };
}

/** Benchmarks a refresh of `n` DPUs (three resources each) through `stacks` real plugin hosts. */
export async function benchHostRefresh(n: number, o: HostRefreshOptions = {}): Promise<HostRefreshResult> {
  const root = repoRoot();
  if (!existsSync(join(root, "dist", "provider", "index.js"))) {
    throw new Error("dist/provider is not built: run `npm run build` (npm run bench does) first");
  }
  const k = Math.max(1, Math.min(o.stacks ?? 1, n));
  const conc = o.concurrency ?? 64;
  const say = o.onProgress ?? (() => {});
  const dir = mkdtempSync(join(tmpdir(), "dpu-bench-host-refresh-"));
  const simFile = join(dir, "sim.json");
  const statesFile = join(dir, "states.json");
  const before = sampleLoad();
  let sim: ChildProcess | undefined;
  const hosts: BenchHost[] = [];
  try {
    sim = await startSim(n, o.groupSize ?? 10, simFile);
    const simOut = JSON.parse(readFileSync(simFile, "utf8")) as SimWorkerOutput;
    const ep = simOut.endpoints;
    await runNode("fleet-worker.js", ["create", simFile, "0", String(n), statesFile], 3_600_000);
    const entries = JSON.parse(readFileSync(statesFile, "utf8")) as FleetEntry[];
    say(`host refresh N=${n} K=${k}: fleet created`);
    const shims = await serializedShims();
    for (let i = 0; i < k; i++) {
      hosts.push(
        await startBenchHost(root, i === 0 && o.cpuProfileDir ? { cpuProfileDir: o.cpuProfileDir } : {}),
      );
    }
    const slices = hosts.map((_, i) =>
      entries.slice(Math.floor((i * entries.length) / k), Math.floor(((i + 1) * entries.length) / k)),
    );
    const withProvider = (kind: FleetKind, m: Record<string, unknown>): PropertyMap =>
      ({ ...m, __provider: shims[kind] }) as PropertyMap;
    const lastProps = new Map<string, PropertyMap>();

    const round = async (): Promise<RefreshRound> => {
      const host0 = hosts.map((h) => h.stats().cpuS);
      const dpu0 = treeCpuSeconds(simOut.pid);
      const drv0 = process.cpuUsage();
      const busy0 = machineBusyMs();
      const rf0 = await redfishRequestsServed(ep);
      const t0 = performance.now();
      const failures: string[] = [];
      const stackRounds = await Promise.all(
        hosts.map(async (h, i) => {
          const tasks = slices[i]!.flatMap((e) => FLEET_KINDS.map((kind) => ({ e, kind })));
          const s0 = performance.now();
          const { errors } = await mapPool(tasks, conc, async ({ e, kind }) => {
            const r = e[kind];
            const res = await h.client
              .read(target(kind, e.index), r.id, withProvider(kind, r.outs), withProvider(kind, r.inputs))
              .catch((err: unknown) => {
                throw new Error(`${kind} read: ${err instanceof Error ? err.message : String(err)}`);
              });
            if (!res.id) throw new Error(`${kind} ${r.id}: read found nothing`);
            lastProps.set(`${kind}:${e.index}`, res.properties);
          });
          for (const x of errors.slice(0, 3))
            failures.push((x.error instanceof Error ? x.error.message : String(x.error)).slice(0, 300));
          return {
            wallS: (performance.now() - s0) / 1000,
            hostCpuS: h.stats().cpuS - host0[i]!,
            reads: tasks.length,
            failures: errors.length,
          };
        }),
      );
      const wallS = (performance.now() - t0) / 1000;
      const drv = process.cpuUsage(drv0);
      const busy = machineBusyMs() - busy0;
      const dpuCpuS = treeCpuSeconds(simOut.pid) - dpu0;
      const rf = (await redfishRequestsServed(ep)) - rf0;
      return {
        wallS,
        hostCpuS: stackRounds.reduce((a, s) => a + s.hostCpuS, 0),
        dpuCpuS,
        driverCpuS: (drv.user + drv.system) / 1e6,
        machineCpuS: busy / 1000,
        reads: stackRounds.reduce((a, s) => a + s.reads, 0),
        failures: stackRounds.reduce((a, s) => a + s.failures, 0),
        failureSamples: failures.slice(0, 5),
        redfishPerHostRead: rf / n,
        stacks: stackRounds,
      };
    };

    const cold = await round();
    say(`host refresh N=${n} K=${k}: cold ${cold.wallS.toFixed(2)} s`);
    const warm: RefreshRound[] = [];
    hosts[0]?.startProfile();
    for (let r = 0; r < (o.warmRounds ?? 5); r++) {
      warm.push(await round());
      say(`host refresh N=${n} K=${k}: warm ${warm[warm.length - 1]!.wallS.toFixed(2)} s`);
    }
    // Drift: Diff of every read state against its declaration, through the host (not timed).
    let drifted = 0;
    await mapPool(entries, conc, async (e) => {
      const h = hosts[Math.min(k - 1, Math.floor((entries.indexOf(e) * k) / entries.length))]!;
      for (const kind of FLEET_KINDS) {
        const props = lastProps.get(`${kind}:${e.index}`);
        if (!props) continue;
        const news = withProvider(kind, e[kind].inputs);
        const d = await h.client.diff(target(kind, e.index), e[kind].id, props, news, news);
        if (d.changes === "some") drifted++;
      }
    });
    const peakRssMiB = hosts.map((h) => Math.round(h.stats().peakRssMiB));
    const hostStartMs = hosts.map((h) => Math.round(h.startMs));
    const profiledPid = hosts[0]?.nodePid;
    for (const h of hosts.splice(0)) await h.close();
    let profile: ProfileSummary | undefined;
    const profFile = o.cpuProfileDir ? join(o.cpuProfileDir, `host-${profiledPid}.cpuprofile`) : undefined;
    if (profFile && existsSync(profFile)) profile = summarizeProfile(profFile);
    return {
      dpus: n,
      stacks: k,
      concurrencyPerStack: conc,
      hostStartMs,
      cold,
      warm,
      drifted,
      peakRssMiB,
      summary: {
        wallS: spread(warm.map((w) => w.wallS)),
        hostCpuS: spread(warm.map((w) => w.hostCpuS)),
        hostCpuPerReadMs: spread(warm.map((w) => (1000 * w.hostCpuS) / Math.max(1, w.reads))),
        dpuCpuS: spread(warm.map((w) => w.dpuCpuS)),
        driverCpuS: spread(warm.map((w) => w.driverCpuS)),
      },
      load: { before, after: sampleLoad() },
      ...(profile ? { profile } : {}),
    };
  } finally {
    for (const h of hosts) await h.close().catch(() => undefined);
    if (sim) await stopSim(sim);
    rmSync(dir, { recursive: true, force: true });
  }
}
