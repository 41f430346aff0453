/**
 * A fleet of simulated DPUs declared with all three resources, created through the providers, then refreshed
 * (every resource read) the way `pulumi refresh` does: the core of the fleet benchmark and of the load test.
 */
import { readFileSync } from "node:fs";
import type * as pulumi from "@pulumi/pulumi";
import { createDpuHostProvider } from "../provider/resources/dpu-host";
import { createDpuUnderlayProvider } from "../provider/resources/dpu-underlay";
import { createDpuWorkloadProvider } from "../provider/resources/dpu-workload";
import { sshPool } from "../provider/ssh";
import type { EndpointsFile } from "../simulator";
import {
  CountingConnector,
  connectionOf,
  hostInputs,
  mapPool,
  percentile,
  redfishRequestsServed,
} from "./lab";

/** The three resource types. */
export type FleetKind = "host" | "underlay" | "workload";
/** The kinds in the order they are created. */
export const FLEET_KINDS: readonly FleetKind[] = ["host", "underlay", "workload"];

/** One created resource: its id, state outputs and the declared (checked) inputs. */
export interface FleetResource {
  readonly id: string;
  readonly outs: Record<string, unknown>;
  readonly inputs: Record<string, unknown>;
}

/** The three resources of one DPU. */
export type FleetEntry = { readonly index: number } & Record<FleetKind, FleetResource>;

/** The providers a fleet run uses, with SSH round-trip counters per resource type. */
export interface FleetProviders {
  readonly providers: Record<FleetKind, pulumi.dynamic.ResourceProvider>;
  readonly trips: Record<FleetKind, CountingConnector>;
  /** Closes every connection of the shared pool. */
  close(): Promise<void>;
}

/**
 * The three providers sharing the process-wide SSH pool (one connection per DPU, as in a real provider
 * process), each given its own counting connector over that pool: DpuHost's readiness probe included.
 */
export function fleetProviders(): FleetProviders {
  const trips: Record<FleetKind, CountingConnector> = {
    host: new CountingConnector(sshPool),
    underlay: new CountingConnector(sshPool),
    workload: new CountingConnector(sshPool),
  };
  return {
    providers: {
      host: createDpuHostProvider({ ssh: trips.host }),
      underlay: createDpuUnderlayProvider({ connector: trips.underlay }),
      workload: createDpuWorkloadProvider({ connector: trips.workload }),
    },
    trips,
    async close() {
      await sshPool.closeAll();
    },
  };
}

/** Data ports a DPU's DpuUnderlay declares: `p0`/`p1` on a full lab, `p0d<i>`/`p1d<i>` on the light lab. */
export type PortsOf = (index: number) => readonly [string, string];

/** A /28 of 198.19.0.0/16 per DPU (distinct even when DPUs share a namespace). */
export function dataAddress(index: number): string {
  return `198.19.${(index >> 4) & 0xff}.${((index & 15) << 4) | 1}/28`;
}

/** Options of a fleet declaration. */
export interface FleetOptions {
  /** DpuHost with the SSH readiness probe (os-release over SSH on every read). Default true. */
  readonly hostSsh?: boolean;
  /**
   * Cheap to create (load tests): DpuHost declares no image sha256 (no verification download), DpuUnderlay
   * takes over the data port as it is (no change to apply) and DpuWorkload is declared stopped (no start, no
   * health wait). Reads cost the same requests and round trips.
   */
  readonly cheap?: boolean;
  /** Declare every DpuWorkload stopped (default: running with a health check). */
  readonly workloadStopped?: boolean;
}

/** Busy (non-idle) CPU time of the whole machine since boot, ms, from /proc/stat. */
export function machineBusyMs(): number {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal …: busy = all but idle and iowait.
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = (f[3] ?? 0) + (f[4] ?? 0);
  return ((total - idle) * 1000) / 100; // USER_HZ is 100 on Linux
}

/** Declared (unchecked) inputs of DPU `index`'s three resources. */
export function fleetDeclaration(
  ep: EndpointsFile,
  index: number,
  ports: PortsOf,
  opts: FleetOptions = {},
): Record<FleetKind, Record<string, unknown>> {
  const d = ep.dpus[index];
  if (!d) throw new Error(`no DPU ${index}`);
  const connection = connectionOf(d);
  return {
    host: hostInputs(ep, index, "dpu-os-1.0.iso", {
      ssh: opts.hostSsh ?? true,
      verify: !opts.cheap,
    }) as unknown as Record<string, unknown>,
    underlay: {
      connection,
      interfaces: [
        opts.cheap
          ? { name: ports(index)[0] }
          : { name: ports(index)[0], mtu: 1400, addresses: [dataAddress(index)] },
      ],
      persist: "none",
    },
    workload: {
      connection,
      name: `fleet-${index}`,
      runtime: "process",
      command: ["sleep", "3600"],
      health: { command: ["true"], intervalMs: 1000 },
      ...(opts.cheap || opts.workloadStopped ? { state: "stopped" } : {}),
    },
  };
}

async function checked(
  p: pulumi.dynamic.ResourceProvider,
  news: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const r = await p.check!({}, news);
  if (r.failures && r.failures.length > 0) {
    throw new Error(`check failed: ${r.failures.map((f) => `${f.property}: ${f.reason}`).join("; ")}`);
  }
  return r.inputs as Record<string, unknown>;
}

/** Creates the three resources of every DPU in `indices` (kinds in order per DPU, `concurrency` DPUs at once). */
export async function createFleet(
  ep: EndpointsFile,
  indices: readonly number[],
  ports: PortsOf,
  fp: FleetProviders,
  concurrency = 32,
  opts: FleetOptions = {},
): Promise<FleetEntry[]> {
  const { results, errors } = await mapPool(indices, concurrency, async (index) => {
    const decl = fleetDeclaration(ep, index, ports, opts);
    const out: Partial<Record<FleetKind, FleetResource>> = {};
    for (const kind of FLEET_KINDS) {
      const p = fp.providers[kind];
      const inputs = await checked(p, decl[kind]);
      const c = await p.create!(inputs);
      out[kind] = { id: c.id, outs: c.outs as Record<string, unknown>, inputs };
    }
    return { index, ...(out as Record<FleetKind, FleetResource>) };
  });
  if (errors.length > 0) {
    const first = errors[0]!;
    throw new Error(
      `creating the fleet: ${errors.length} DPU(s) failed; DPU ${first.index}: ${first.error instanceof Error ? first.error.message : String(first.error)}`,
    );
  }
  return results as FleetEntry[];
}

/** What one refresh of the fleet measured. */
export interface RefreshResult {
  readonly dpus: number;
  readonly reads: number;
  readonly wallMs: number;
  /** Reads that threw or found their resource gone. */
  readonly failures: number;
  /** First failure messages (at most 5). */
  readonly failureSamples: readonly string[];
  /** Resources whose read state differs from the declaration (diff shows changes). */
  readonly drifted: number;
  /** Redfish requests served by the BMCs during the refresh, per DpuHost read. */
  readonly redfishPerHostRead: number;
  /** SSH round trips per read, by type. */
  readonly sshPerRead: Record<FleetKind, number>;
  /** Read latency percentiles by type, ms. */
  readonly latencyMs: Record<FleetKind, { p50: number; p95: number; max: number }>;
  /** CPU time of this process during the reads (user + system), ms: the provider's own cost in a provider process. */
  readonly cpuMs: number;
  /** Busy CPU time of the whole machine during the reads (every process: provider, BMCs, sshd, DPU scripts), ms. */
  readonly machineCpuMs: number;
}

/**
 * Refreshes the fleet: reads every resource (`concurrency` reads in flight, all types mixed, like the engine),
 * counting Redfish requests at the BMCs and SSH round trips per type, then diffs each read state against its
 * declaration. With `update`, entries get the read states (as refresh writes them to the stack).
 */
export async function refreshFleet(
  ep: EndpointsFile,
  entries: FleetEntry[],
  fp: FleetProviders,
  concurrency = 64,
): Promise<RefreshResult> {
  const tasks = entries.flatMap((e) => FLEET_KINDS.map((kind) => ({ e, kind })));
  const before = await redfishRequestsServed(ep);
  const trips0 = Object.fromEntries(FLEET_KINDS.map((k) => [k, fp.trips[k].trips])) as Record<
    FleetKind,
    number
  >;
  const lat: Record<FleetKind, number[]> = { host: [], underlay: [], workload: [] };
  const read = new Map<string, Record<string, unknown>>();
  const cpu0 = process.cpuUsage();
  const busy0 = machineBusyMs();
  const t0 = performance.now();
  const { errors, results } = await mapPool(tasks, concurrency, async ({ e, kind }) => {
    const r = e[kind];
    const s = performance.now();
    const res = await fp.providers[kind].read!(r.id, r.outs as never);
    lat[kind].push(performance.now() - s);
    if (!res.id) throw new Error(`${kind} ${r.id}: read found nothing`);
    read.set(`${kind}:${e.index}`, (res.props ?? {}) as Record<string, unknown>);
    return res;
  });
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const machineCpuMs = Math.round(machineBusyMs() - busy0);
  const after = await redfishRequestsServed(ep);
  let drifted = 0;
  for (const e of entries) {
    for (const kind of FLEET_KINDS) {
      const props = read.get(`${kind}:${e.index}`);
      if (!props) continue;
      const d = await fp.providers[kind].diff!(e[kind].id, props as never, e[kind].inputs as never);
      if (d.changes) drifted++;
    }
  }
  void results;
  const stat = (k: FleetKind) => ({
    p50: round(percentile(lat[k], 50)),
    p95: round(percentile(lat[k], 95)),
    max: round(percentile(lat[k], 100)),
  });
  return {
    dpus: entries.length,
    reads: tasks.length,
    wallMs: round(wallMs),
    failures: errors.length,
    failureSamples: errors
      .slice(0, 5)
      .map((x) => (x.error instanceof Error ? x.error.message : String(x.error)).slice(0, 300)),
    drifted,
    redfishPerHostRead: round((after - before) / entries.length, 3),
    sshPerRead: Object.fromEntries(
      FLEET_KINDS.map((k) => [k, round((fp.trips[k].trips - trips0[k]) / entries.length, 3)]),
    ) as Record<FleetKind, number>,
    latencyMs: { host: stat("host"), underlay: stat("underlay"), workload: stat("workload") },
    cpuMs: Math.round((cpu.user + cpu.system) / 1000),
    machineCpuMs,
  };
}

/** Deletes every resource of the fleet (workload, underlay, then host). */
export async function deleteFleet(
  entries: FleetEntry[],
  fp: FleetProviders,
  concurrency = 32,
): Promise<void> {
  const { errors } = await mapPool(entries, concurrency, async (e) => {
    for (const kind of [...FLEET_KINDS].reverse()) {
      await fp.providers[kind].delete!(e[kind].id, e[kind].outs as never);
    }
  });
  if (errors.length > 0) throw new Error(`deleting the fleet: ${errors.length} DPU(s) failed`);
}

/** Rounds to `digits` decimals. */
export function round(v: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
