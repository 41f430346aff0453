/**
 * Benchmark (not a timed test): Redfish requests DpuHost sends, counted by the BMC (server side,
 * request-log.ts):
 * - on a simulated generic DPU ({@link benchDpuHostRequests}): per read() of a converged DPU (target ≤ 2); per
 *   provisioning, in total and before the boot wait (up to and including the reset), on a fresh BMC (create)
 *   and on re-image (update to another image, discovery kept in state): targets ≤ 6 and ≤ 3;
 * - on every profile of the simulator ({@link benchDpuHostRequestsByProfile}): create, read, re-image and
 *   delete, before the boot wait and in total (`npm run bench -- --only hostprofiles`).
 * Run as root after `npm run build && npx tsc -p tsconfig.bench.json`: `node build/bench/bench/dpu-host-requests.js`
 * prints one JSON line (`--profiles`: the per-profile rows).
 */
import { setLogSink } from "../provider/log";
import { closeAllPools } from "../provider/redfish";
import { type DpuHostOutputs, dpuHost } from "../provider/resources/dpu-host";
import { sshPool } from "../provider/ssh";
import { ALL_BMC_PROFILES, type BmcProfileName, type EndpointsFile, startLab } from "../simulator";
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

/** Runs `fn` with a request log, then stops the log, the pools and the lab (whatever `fn` did). */
async function withLab<T>(
  lab: Awaited<ReturnType<typeof startLab>>,
  fn: (log: ReturnType<typeof startRequestLog>) => Promise<T>,
): Promise<T> {
  const restore = setLogSink(() => undefined);
  const log = startRequestLog();
  try {
    return await fn(log);
  } finally {
    log.stop();
    restore();
    await sshPool.closeAll();
    await closeAllPools();
    await lab.stop();
  }
}

/** Runs the benchmark and returns the counts (`ssh`: with the SSH readiness probe, default true). */
export async function benchDpuHostRequests(o: { ssh?: boolean } = {}): Promise<DpuHostRequestCounts> {
  const lab = await startLab({ count: 1, profile: "generic", bootTimeMs: 300 });
  return withLab(lab, async (log) => {
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
  });
}

/** One profile's counts (undefined: the operation did not run, see `error`). */
export interface DpuHostProfileRequests {
  readonly profile: BmcProfileName;
  /** The images installed (create, then re-image) and the method DpuHost chose. */
  readonly images: readonly string[];
  readonly method?: string;
  readonly create?: { readonly total: number; readonly beforeBootWait: number };
  readonly requestsPerRead?: number;
  readonly reimage?: { readonly total: number; readonly beforeBootWait: number };
  readonly delete?: number;
  /** Why a create with an ISO was refused, when the profile then installed a BFB (SimpleUpdate). */
  readonly isoRefused?: string;
  /** The first error that stopped the row (refusal or failure), as DpuHost said it. */
  readonly error?: string;
}

/** Result of {@link benchDpuHostRequestsByProfile}. */
export interface DpuHostProfileBench {
  readonly rows: readonly DpuHostProfileRequests[];
  /** Time from reset to OS running in the lab, ms. */
  readonly bootTimeMs: number;
  /** Reads per row (the per-read figure is their mean). */
  readonly reads: number;
}

/** An error's message on one line, without the action/BMC prefix that every message of a row shares. */
function messageOf(err: unknown): string {
  return (err instanceof Error ? err.message : String(err))
    .replace(/\s+/g, " ")
    .replace(/^(provision DpuHost \([^)]*\)|discover BMC [^:]+:\/\/[^:]+:\d+): /, "");
}

/**
 * {@link splitAtReset}, where the install is started by SimpleUpdate (the BMC reboots the DPU by itself, no reset
 * is sent): "before the boot wait" counts up to and including the SimpleUpdate request.
 */
function splitInstall(reqs: ReturnType<ReturnType<typeof startRequestLog>["forPort"]>): {
  readonly total: number;
  readonly beforeBootWait: number;
} {
  const s = splitAtReset(reqs);
  if (s.resetAt !== undefined) return { total: s.total, beforeBootWait: s.beforeBootWait };
  const i = reqs.findIndex((r) => r.method === "POST" && r.path.includes("SimpleUpdate"));
  return { total: s.total, beforeBootWait: i >= 0 ? i + 1 : s.beforeBootWait };
}

/** Image pairs tried per profile: an ISO (virtual media or UEFI HTTP boot), else a BFB bundle (SimpleUpdate). */
const IMAGE_PAIRS = [
  ["dpu-os-1.1.iso", "dpu-os-2.0.iso"],
  ["bf-bundle-4.9.bfb", "bf-bundle-4.10.bfb"],
] as const;

/** One profile's row: create (ISO, else BFB), reads, re-image, delete on DPU `i`, each counted by its BMC. */
async function profileRow(
  ep: EndpointsFile,
  i: number,
  log: ReturnType<typeof startRequestLog>,
  reads: number,
): Promise<DpuHostProfileRequests> {
  const d = ep.dpus[i]!;
  const profile = d.profile;
  const port = portOf(d.bmc.url);
  const counted = async <T>(fn: () => Promise<T>) => {
    const from = performance.now();
    const value = await fn();
    return { value, reqs: log.forPort(port, from, performance.now()) };
  };
  let isoRefused: string | undefined;
  for (const [first, second] of IMAGE_PAIRS) {
    const images = [first, second];
    let created: Awaited<ReturnType<NonNullable<typeof dpuHost.create>>>;
    let createReqs: ReturnType<typeof log.forPort>;
    try {
      ({ value: created, reqs: createReqs } = await counted(() => dpuHost.create!(hostInputs(ep, i, first))));
    } catch (err) {
      if (first.endsWith(".iso")) {
        isoRefused = messageOf(err);
        continue;
      }
      const error = messageOf(err);
      return {
        profile,
        images: [],
        ...(isoRefused && isoRefused !== error ? { isoRefused } : {}),
        error,
      };
    }
    const c = splitInstall(createReqs);
    const outs = created.outs as DpuHostOutputs;
    const row: {
      -readonly [K in keyof DpuHostProfileRequests]: DpuHostProfileRequests[K];
    } = {
      profile,
      images,
      method: outs.discovery.method,
      create: { total: c.total, beforeBootWait: c.beforeBootWait },
      ...(isoRefused ? { isoRefused } : {}),
    };
    try {
      const r = await counted(async () => {
        for (let k = 0; k < reads; k++) await dpuHost.read!(created.id, outs);
      });
      row.requestsPerRead = r.reqs.length / reads;
      const u = await counted(() => dpuHost.update!(created.id, outs, hostInputs(ep, i, second)));
      const split = splitInstall(u.reqs);
      row.reimage = { total: split.total, beforeBootWait: split.beforeBootWait };
      const after = { ...outs, ...((u.value.outs ?? {}) as Partial<DpuHostOutputs>) } as DpuHostOutputs;
      const del = await counted(() => dpuHost.delete!(created.id, after));
      row.delete = del.reqs.length;
    } catch (err) {
      row.error = messageOf(err);
    }
    return row;
  }
  return { profile, images: [], ...(isoRefused ? { error: isoRefused } : {}) };
}

/**
 * Runs create, `reads` reads, re-image and delete on one full-lab DPU of every profile the simulator offers
 * (`mixed`: hand-written, capture-backed and quirk profiles, where the shared captures are found), one after
 * the other, with the SSH readiness probe; every request counted by the BMC.
 */
export async function benchDpuHostRequestsByProfile(
  o: { bootTimeMs?: number; reads?: number; onProgress?: (line: string) => void } = {},
): Promise<DpuHostProfileBench> {
  const bootTimeMs = o.bootTimeMs ?? 300;
  const reads = o.reads ?? 3;
  const lab = await startLab({ count: ALL_BMC_PROFILES.length, profile: "mixed", bootTimeMs });
  return withLab(lab, async (log) => {
    const rows: DpuHostProfileRequests[] = [];
    const seen = new Set<string>();
    for (let i = 0; i < lab.endpoints.dpus.length; i++) {
      const profile = lab.endpoints.dpus[i]!.profile;
      if (seen.has(profile)) continue;
      seen.add(profile);
      const row = await profileRow(lab.endpoints, i, log, reads);
      o.onProgress?.(
        `DpuHost requests on ${profile}: create ${row.create?.beforeBootWait ?? "–"}/${row.create?.total ?? "–"}, re-image ${row.reimage?.beforeBootWait ?? "–"}/${row.reimage?.total ?? "–"}${row.error ? ` (${row.error.slice(0, 100)})` : ""}`,
      );
      rows.push(row);
    }
    return { rows, bootTimeMs, reads };
  });
}

if (require.main === module) {
  (process.argv.includes("--profiles") ? benchDpuHostRequestsByProfile() : benchDpuHostRequests()).then(
    (r) => process.stdout.write(`${JSON.stringify(r)}\n`),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
