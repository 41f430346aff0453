import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { mixedProfiles } from "../bmc/capture/mixed";
import type { BmcProfileName, BootImage, DpuOsBackend } from "../contracts";
import { createNamespaceDpu, type DpuShell, type NamespaceDpu } from "../dpu";
import { ipBatch, mapLimit } from "../dpu/exec";
import { ensureStandardImages, startImageServer } from "../images";
import { createLabPki } from "../tls";
import { OBJECT_PREFIX, slotPlan } from "./address-plan";
import { startControlServer } from "./control-server";
import * as kit from "./lab-parts";
import { acquireSlot } from "./slots";
import { type Lab, type LabDpu, type LabProfile, labProfileOf, shellFor } from "./start-lab";

/** Options of {@link startLightLab}. */
export interface LightLabOptions {
  /** Number of DPUs (1..1000). */
  readonly count: number;
  /** DPUs served by one shared OS (one network namespace, one sshd). Default 10. */
  readonly groupSize?: number;
  /** BMC profile, `mixed` (every profile whose material is found, see `LabOptions.profile`), or one per DPU. Default `generic`. */
  readonly profile?: LabProfile;
  /** Time from reset to "OS running" as the BMC reports it, ms. Default 0. */
  readonly bootTimeMs?: number;
  /** Progress messages. */
  readonly onProgress?: (message: string) => void;
  /**
   * The OS image's `/bin/sh` (see `LabOptions.shell`), for every shared OS, or one per DPU index: a group's
   * shared OS takes the shell of its first DPU, so every member of a group must name the same shell. Default:
   * the `PULUMI_DPU_LAB_SHELL` environment variable when set, else `dash`.
   */
  readonly shell?: DpuShell | readonly DpuShell[];
}

/** A running lightweight lab: a {@link Lab} plus the names of each DPU's own data ports. */
export interface LightLab extends Lab {
  /** Number of shared OS instances (namespaces with one sshd each). */
  readonly groups: number;
  /** The data ports of DPU `index` in its shared namespace: the veth pair `p0d<index>`, `p1d<index>`. */
  dataPorts(index: number): readonly [string, string];
  /** Fault: ends every established SSH connection of group `group` (all its DPUs; the listener stays). */
  dropSshConnections(group: number): Promise<void>;
}

/** What the lightweight mode leaves out, for benchmark reports. */
export const LIGHT_LAB_LIMITS: readonly string[] = [
  "DPUs of one group share one network namespace, one sshd, one host key, one /etc/os-release (the factory image) and one process table",
  "data ports are a veth pair p0d<i>/p1d<i> in the shared namespace (this kernel has no dummy links): no ToR switch, no traffic between DPUs",
  "a BMC reset, power-off or reprovisioning changes only what the BMC reports: the shared OS keeps running the factory image",
  "per-DPU SSH faults (sshDown, dropSshConnections) are not available; BMC faults are",
];

const BMC_CONCURRENCY = 32;

/** Locally administered MAC of a light group's management port: `02:d6:<slot>:<hi>:<lo>:00`. */
function groupMac(slot: number, group: number): string {
  return [0x02, 0xd6, slot, group >> 8, group & 0xff, 0]
    .map((n) => n.toString(16).padStart(2, "0"))
    .join(":");
}

/**
 * The BMC-facing side of one DPU of a shared group: power and installed image are the BMC's own bookkeeping;
 * "running" requires the shared OS to run. Day-0 seeds (a `cidata` medium, a BFB's bf.cfg) are not applied: the
 * members share one OS, one hostname and one key; identity tests use the full lab.
 */
function memberBackend(name: string, group: NamespaceDpu, factory: BootImage): DpuOsBackend {
  let image: BootImage | undefined = factory;
  let running = false;
  return {
    name,
    ports: [],
    installedImage: () => image,
    install: async (img) => {
      image = img;
    },
    wipe: async () => {
      image = undefined;
    },
    start: async () => {
      if (!image) throw new Error(`${name}: no operating system installed (blank disk)`);
      if (!group.running()) throw new Error(`${name}: the shared OS of its group is not running`);
      running = true;
    },
    stop: async () => {
      running = false;
    },
    running: () => running,
    setSshDown: async () => {
      throw new Error(`${name}: SSH faults are not available in the lightweight lab (shared sshd)`);
    },
    dropSshConnections: async () => {
      throw new Error(`${name}: SSH faults are not available in the lightweight lab (shared sshd)`);
    },
  };
}

/**
 * Starts a lightweight lab for fleet benchmarks: one Redfish BMC per DPU (real HTTPS servers, every profile
 * behaviour), but DPUs share operating systems: each group of `groupSize` DPUs is one network namespace with one
 * sshd listening on every member's management address, and per-DPU data ports `p0d<i>`, `p1d<i>` (a veth pair).
 * 1000 DPUs need 1000 BMC servers and 100 sshd, not 1000 booted namespaces. See {@link LIGHT_LAB_LIMITS}.
 */
export async function startLightLab(opts: LightLabOptions): Promise<LightLab> {
  const groupSize = opts.groupSize ?? 10;
  if (!Number.isInteger(groupSize) || groupSize < 1 || groupSize > 100) {
    throw new Error(`groupSize must be an integer from 1 to 100, got ${groupSize}`);
  }
  kit.checkLabStart(opts.count);
  for (let i = 0; i < opts.count; i++) shellFor(opts.shell, i); // unknown names fail before anything starts
  const progress = opts.onProgress ?? (() => {});
  const profile = opts.profile ?? "generic";
  const mixed = profile === "mixed" ? mixedProfiles() : undefined;
  const cycle = mixed?.profiles ?? [];
  if (mixed?.note) progress(mixed.note);
  const stateDir = await mkdtemp(join(tmpdir(), "pulumi-dpu-light-"));
  const groups = Math.ceil(opts.count / groupSize);
  const shared: NamespaceDpu[] = [];
  const parts: kit.LabParts = { bmcs: [], oses: shared };
  const stop = kit.labStopper(parts, "light lab", 64, (attempt) =>
    attempt(() => rm(stateDir, { recursive: true, force: true })),
  );

  try {
    const slot = await acquireSlot({ stateDir, ownsStateDir: true, stateEntries: [] });
    parts.slot = slot;
    const plan = slotPlan(slot.slot);
    const [pki, sshKey] = await Promise.all([
      createLabPki(join(stateDir, "pki")),
      kit.createLabSshKey(stateDir, "pulumi-dpu-light", false),
    ]);
    const imageDir = join(stateDir, "images");
    await ensureStandardImages(imageDir);
    const images = await startImageServer({ dir: imageDir });
    parts.images = images;
    const f = images.files().find((i) => i.name === "dpu-os-1.0.iso");
    if (!f) throw new Error("the image server has no dpu-os-1.0.iso");
    const factory: BootImage = { ...kit.bootImageOf(f), kind: "iso" };

    // Network: the management bridge, one namespace per group with every member's address and dummy ports.
    const t0 = Date.now();
    const members = (g: number): number[] =>
      Array.from({ length: Math.min(groupSize, opts.count - g * groupSize) }, (_, k) => g * groupSize + k);
    const nsOf = (g: number) => `${OBJECT_PREFIX}${slot.slot}-g${g}`;
    const root: string[] = [];
    for (let g = 0; g < groups; g++) root.push(`netns add ${nsOf(g)}`);
    root.push(
      `link add ${plan.bridge} address ${plan.bridgeMac} type bridge`,
      `addr add ${plan.bridgeIp}/${plan.prefixLength} dev ${plan.bridge}`,
      `link set ${plan.bridge} up`,
    );
    for (let g = 0; g < groups; g++) {
      const host = `${OBJECT_PREFIX}${slot.slot}m${g}`;
      root.push(
        `link add ${host} type veth peer name oob_net0 netns ${nsOf(g)} address ${groupMac(slot.slot, g)}`,
        `link set ${host} master ${plan.bridge} up`,
      );
    }
    await ipBatch(root);
    await mapLimit(
      Array.from({ length: groups }, (_, g) => g),
      8,
      (g) => {
        const lines = ["link set lo up"];
        for (const i of members(g)) {
          lines.push(
            `addr add ${plan.dpu(i).mgmtIp}/${plan.prefixLength} dev oob_net0`,
            `link add p0d${i} type veth peer name p1d${i}`,
            `link set p0d${i} up`,
            `link set p1d${i} up`,
          );
        }
        lines.push("link set oob_net0 up");
        return ipBatch(lines, ["-n", nsOf(g)]);
      },
    );
    // The host reaches a group's other members through its first address: one neighbour entry per group, not
    // per DPU. 1,000 on-link addresses would overflow the kernel's default neighbour table (gc_thresh3 1024,
    // aggressive GC above 512), and connections to evicted entries stall — the lab, not the provider, would
    // be measured. The routes go with the bridge.
    const hostRoutes: string[] = [];
    for (let g = 0; g < groups; g++) {
      const [first, ...rest] = members(g).map((i) => plan.dpu(i).mgmtIp);
      for (const ip of rest) hostRoutes.push(`route add ${ip}/32 via ${first} dev ${plan.bridge}`);
    }
    await ipBatch(hostRoutes);
    progress(`network for ${opts.count} DPUs in ${groups} shared namespaces ready in ${Date.now() - t0} ms`);

    // One shared OS (a namespace DPU with one sshd on every member address) per group.
    const groupShell = (g: number): DpuShell => {
      const [first, ...rest] = members(g).map((i) => shellFor(opts.shell, i));
      if (rest.some((s) => s !== first)) {
        throw new Error(`group ${g}: DPUs sharing one OS need one shell, got ${[first, ...rest].join(", ")}`);
      }
      return first!;
    };
    for (let g = 0; g < groups; g++) {
      const addrs = members(g).map((i) => plan.dpu(i).mgmtIp);
      const os = createNamespaceDpu({
        name: `group-${g}`,
        netns: nsOf(g),
        mgmtIp: addrs[0]!,
        listenAddresses: addrs,
        dir: join(stateDir, "groups", `group-${g}`),
        ports: [{ name: "oob_net0", mac: groupMac(slot.slot, g) }],
        authorizedKeys: [sshKey.publicKey],
        nameservers: [plan.bridgeIp],
        shell: groupShell(g),
      });
      shared.push(os);
    }
    await mapLimit(shared, 6, async (s) => {
      await s.install(factory);
      await s.start();
    });
    progress(`${groups} shared DPU operating systems running`);

    const dpus = new Map<string, LabDpu>();
    const order = Array.from({ length: opts.count }, (_, i) => i);
    await mapLimit(order, BMC_CONCURRENCY, async (i) => {
      const g = Math.floor(i / groupSize);
      const name = `dpu-${i}`;
      const p: BmcProfileName = labProfileOf(profile, i, cycle);
      const backend = memberBackend(name, shared[g]!, factory);
      const bmc = await kit.startLabBmc(parts, pki, {
        name,
        profile: p,
        backend,
        bootTimeMs: opts.bootTimeMs ?? 0,
      });
      await bmc.powerOnAndWait();
      const group = shared[g]!;
      dpus.set(name, {
        name,
        profile: p,
        bmc,
        backend,
        mgmtIp: plan.dpu(i).mgmtIp,
        netns: group.netns,
        ports: [],
        shell: group.shell,
        hostKeyFingerprint: () => group.hostKeyFingerprint(),
      });
    });
    const sorted = new Map(order.map((i) => [`dpu-${i}`, dpus.get(`dpu-${i}`)!]));
    progress(`${opts.count} BMCs ready`);
    const control = await startControlServer(sorted);
    parts.control = control;
    const endpoints = kit.labEndpoints(sorted.values(), pki.caFile, sshKey.file, control.url, images);
    const server = images;
    return {
      endpoints,
      dpus: sorted,
      controlUrl: control.url,
      imageBaseUrl: server.baseUrl,
      stateDir,
      slot: slot.slot,
      sshPrivateKeyFile: sshKey.file,
      caFile: pki.caFile,
      groups,
      dataPorts: (index) => [`p0d${index}`, `p1d${index}`] as const,
      dropSshConnections: async (g) => {
        const s = shared[g];
        if (!s) throw new Error(`no group ${g}`);
        await s.dropSshConnections();
      },
      addImage: (name, bytes) => server.addImage(name, bytes),
      imageHits: (name) => server.hits(name),
      execAudit: () => "",
      stop,
    };
  } catch (e) {
    try {
      await stop();
    } catch {
      // report the start failure
    }
    if (existsSync(stateDir)) await rm(stateDir, { recursive: true, force: true });
    throw e;
  }
}
