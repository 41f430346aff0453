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

import type { DpuHostInputs } from "../provider/host/inputs.schema";
import { setLogSink } from "../provider/log";
import { closeAllPools } from "../provider/redfish";
import { type DpuHostOutputs, dpuHost } from "../provider/resources/dpu-host";
import { sshPool } from "../provider/ssh";
import { ALL_BMC_PROFILES, type BmcProfileName, type EndpointsFile, startLab } from "../simulator";
import type { ScpImageServer } from "../simulator/images";
import { authorizeBmcForScp, bmcLoginOf, scpUrl, startScpImages } from "../test/conformance/scp-images";
import { hostInputs } from "./lab";
import { portOf, splitAtReset, startRequestLog } from "./request-log";
import { type LabelledRequest, labelRequests } from "./request-reasons";

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
  readonly create?: InstallCount;
  readonly requestsPerRead?: number;
  readonly reimage?: InstallCount;
  /** The inputs this profile needed beyond the shared ones, as a user learns them from DpuHost's refusals. */
  readonly inputsNeeded?: readonly string[];
  readonly delete?: number;
  /** Why a create with an ISO was refused, when the profile then installed a BFB (SimpleUpdate). */
  readonly isoRefused?: string;
  /** The first error that stopped the row (refusal or failure), as DpuHost said it. */
  readonly error?: string;
}

/** One install's counts, and the requests before the boot wait with what each is for. */
export interface InstallCount {
  readonly total: number;
  readonly beforeBootWait: number;
  readonly sequence: readonly LabelledRequest[];
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
function splitInstall(reqs: ReturnType<ReturnType<typeof startRequestLog>["forPort"]>): InstallCount {
  const s = splitAtReset(reqs);
  const i = reqs.findIndex((r) => r.method === "POST" && r.path.includes("SimpleUpdate"));
  const before = s.resetAt !== undefined ? s.beforeBootWait : i >= 0 ? i + 1 : s.beforeBootWait;
  return { total: s.total, beforeBootWait: before, sequence: labelRequests(reqs.slice(0, before)) };
}

/** Image pairs tried per profile: an ISO (virtual media or UEFI HTTP boot), else a BFB bundle (SimpleUpdate). */
const IMAGE_PAIRS = [
  ["dpu-os-1.1.iso", "dpu-os-2.0.iso"],
  ["bf-bundle-4.9.bfb", "bf-bundle-4.10.bfb"],
] as const;

/** A refusal a user answers by declaring bmc.systemId (several systems, or the one picked cannot install). */
function asksForSystemId(message: string): boolean {
  return /set bmc\.systemId/i.test(message);
}

/** A refusal a user answers by serving the bundle over SCP (the BMC's SimpleUpdate allows SCP only). */
function asksForScp(message: string): boolean {
  return /TransferProtocol SCP only|serve the image over scp:\/\//.test(message);
}

/** Bundles served over SCP to the BMCs that fetch only that way. */
const SCP_BUNDLES = ["bf-bundle-4.9.bfb", "bf-bundle-4.10.bfb"] as const;

/** The SCP image server, started the first time a profile needs it (see {@link profileRow}). */
interface ScpOnDemand {
  get(): Promise<ScpImageServer>;
  close(): Promise<void>;
}

function scpOnDemand(ep: EndpointsFile): ScpOnDemand {
  let server: Promise<ScpImageServer> | undefined;
  return {
    get: () => {
      server ??= startScpImages(ep, SCP_BUNDLES);
      return server;
    },
    close: async () => {
      if (server) await (await server).close();
    },
  };
}

/**
 * One profile's row: create (ISO, else BFB), reads, re-image, delete on DPU `i`, each counted by its BMC. The
 * inputs start as every profile's, and grow the way a user's would after a refusal that names the missing input:
 * bmc.systemId from the lab's endpoints file, then a bundle served over SCP with its host key (the BMC's key
 * authorized on the SCP server first: the operator's one-time step of NVIDIA's "Setting Up Secure Connection",
 * not counted). Only the create that installs is counted.
 */
async function profileRow(
  ep: EndpointsFile,
  i: number,
  log: ReturnType<typeof startRequestLog>,
  reads: number,
  scp: ScpOnDemand,
): Promise<DpuHostProfileRequests> {
  const d = ep.dpus[i]!;
  const profile = d.profile;
  const port = portOf(d.bmc.url);
  const counted = async <T>(fn: () => Promise<T>) => {
    const from = performance.now();
    const value = await fn();
    return { value, reqs: log.forPort(port, from, performance.now()) };
  };
  const needed: string[] = [];
  let systemId = false;
  let overScp: ScpImageServer | undefined;
  const inputsFor = (image: string): DpuHostInputs => {
    const base = hostInputs(ep, i, image);
    return {
      ...base,
      bmc: { ...base.bmc, ...(systemId ? { systemId: d.bmc.systemId } : {}) },
      image:
        overScp && image.endsWith(".bfb")
          ? { ...base.image, url: scpUrl(overScp, image), username: "root", scpHostKey: overScp.hostKey }
          : base.image,
    };
  };
  let isoRefused: string | undefined;
  for (const [first, second] of IMAGE_PAIRS) {
    const images = [first, second];
    let created: Awaited<ReturnType<NonNullable<typeof dpuHost.create>>> | undefined;
    let createReqs: ReturnType<typeof log.forPort> = [];
    let error: string | undefined;
    for (;;) {
      try {
        ({ value: created, reqs: createReqs } = await counted(() => dpuHost.create!(inputsFor(first))));
        break;
      } catch (err) {
        error = messageOf(err);
        if (!systemId && asksForSystemId(error)) {
          systemId = true;
          needed.push(`bmc.systemId ${d.bmc.systemId} (several systems)`);
          continue;
        }
        if (!overScp && first.endsWith(".bfb") && asksForScp(error)) {
          overScp = await scp.get();
          await authorizeBmcForScp(bmcLoginOf(d), overScp);
          needed.push("the bundle over scp:// with image.scpHostKey (SimpleUpdate allows SCP only)");
          continue;
        }
        break;
      }
    }
    if (!created) {
      if (first.endsWith(".iso")) {
        isoRefused = error;
        continue;
      }
      return {
        profile,
        images: [],
        ...(needed.length > 0 ? { inputsNeeded: needed } : {}),
        ...(isoRefused && isoRefused !== error ? { isoRefused } : {}),
        ...(error ? { error } : {}),
      };
    }
    const outs = created.outs as DpuHostOutputs;
    const row: {
      -readonly [K in keyof DpuHostProfileRequests]: DpuHostProfileRequests[K];
    } = {
      profile,
      images,
      method: outs.discovery.method,
      create: splitInstall(createReqs),
      ...(needed.length > 0 ? { inputsNeeded: needed } : {}),
      ...(isoRefused ? { isoRefused } : {}),
    };
    try {
      const r = await counted(async () => {
        for (let k = 0; k < reads; k++) await dpuHost.read!(created.id, outs);
      });
      row.requestsPerRead = r.reqs.length / reads;
      const u = await counted(() => dpuHost.update!(created.id, outs, inputsFor(second)));
      row.reimage = splitInstall(u.reqs);
      const after = { ...outs, ...((u.value.outs ?? {}) as Partial<DpuHostOutputs>) } as DpuHostOutputs;
      const del = await counted(() => dpuHost.delete!(created.id, after));
      row.delete = del.reqs.length;
    } catch (err) {
      row.error = messageOf(err);
    }
    return row;
  }
  return {
    profile,
    images: [],
    ...(needed.length > 0 ? { inputsNeeded: needed } : {}),
    ...(isoRefused ? { error: isoRefused } : {}),
  };
}

/**
 * Runs create, `reads` reads, re-image and delete on one full-lab DPU of every profile the simulator offers
 * (`mixed`: hand-written, capture-backed and quirk profiles, where the shared captures are found), one after
 * the other, with the SSH readiness probe; every request counted by the BMC.
 */
export async function benchDpuHostRequestsByProfile(
  o: {
    bootTimeMs?: number;
    reads?: number;
    onProgress?: (line: string) => void;
    /** Only these profiles, one DPU each (default: every profile, `mixed`). */
    profiles?: readonly BmcProfileName[];
  } = {},
): Promise<DpuHostProfileBench> {
  const bootTimeMs = o.bootTimeMs ?? 300;
  const reads = o.reads ?? 3;
  const lab = await startLab(
    o.profiles
      ? { count: o.profiles.length, profile: [...o.profiles], bootTimeMs }
      : { count: ALL_BMC_PROFILES.length, profile: "mixed", bootTimeMs },
  );
  const scp = scpOnDemand(lab.endpoints);
  return withLab(lab, async (log) => {
    const rows: DpuHostProfileRequests[] = [];
    const seen = new Set<string>();
    for (let i = 0; i < lab.endpoints.dpus.length; i++) {
      const profile = lab.endpoints.dpus[i]!.profile;
      if (seen.has(profile)) continue;
      seen.add(profile);
      const row = await profileRow(lab.endpoints, i, log, reads, scp);
      o.onProgress?.(
        `DpuHost requests on ${profile}: create ${row.create?.beforeBootWait ?? "–"}/${row.create?.total ?? "–"}, re-image ${row.reimage?.beforeBootWait ?? "–"}/${row.reimage?.total ?? "–"}${row.error ? ` (${row.error.slice(0, 100)})` : ""}`,
      );
      rows.push(row);
    }
    return { rows, bootTimeMs, reads };
  }).finally(() => scp.close());
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
