import { readFileSync } from "node:fs";
import { copyFile, link, mkdir, mkdtemp, rm, rmdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { mixedProfiles } from "../bmc/capture/mixed";
import type { QuirkTiming } from "../bmc/capture/model";
import {
  ALL_BMC_PROFILES,
  type BmcProfileName,
  type DpuPort,
  type EndpointsFile,
  type ImageFileInfo,
} from "../contracts";
import {
  createNamespaceDpu,
  DEFAULT_DPU_SHELL,
  type DpuShell,
  isDpuShell,
  labShellFromEnv,
  type NamespaceDpu,
} from "../dpu";
import { mapLimit } from "../dpu/exec";
import { ensureStandardImages, startImageServer } from "../images";
import { createLabPki } from "../tls";
import { createVmDpu, ensureVmImage, VM_IMAGE_FILE, type VmDpu, type VmFirmware } from "../vm";
import { slotPlan } from "./address-plan";
import { startControlServer } from "./control-server";
import { createDashboard, type DashboardTarget } from "./dashboard";
import {
  bootImageOf,
  checkLabStart,
  createLabSshKey,
  type LabParts,
  labEndpoints,
  labStopper,
  startLabBmc,
} from "./lab-parts";
import { buildNetwork } from "./network";
import { acquireSlot } from "./slots";

export { waitForExit } from "./lab-parts";

/** Profile choice of a lab: one BMC profile for all DPUs, or `mixed` (cycling through every profile). */
export type LabProfile = BmcProfileName | "mixed" | readonly BmcProfileName[];

/** Kind of DPU backend: a network namespace (fast) or a QEMU virtual machine booting a real DPU OS ISO. */
export type LabBackendKind = "namespace" | "vm";

/** Options of {@link startLab}. */
export interface LabOptions {
  /** Number of DPUs (1..1000). */
  readonly count: number;
  /**
   * BMC profile of every DPU, or `mixed`: every profile in turn (generic, dell, bluefield, intel-ipu, then the
   * capture and quirk profiles where the shared captures are found; otherwise the hand-written ones, with a
   * progress message saying so), or a list (DPU i gets entry i, cycled). Default `generic`.
   */
  readonly profile?: LabProfile;
  /** Quirk profiles: shorter or longer delays than the profile's own (late power changes, stale BootProgress). */
  readonly quirkTiming?: QuirkTiming;
  /** Time from reset to OS running, in ms. Default 3000. */
  readonly bootTimeMs?: number;
  /** Directory for everything the lab writes. Default: a fresh temporary directory. */
  readonly stateDir?: string;
  /** Start DPUs without an operating system (default false: factory image installed and booted). */
  readonly blank?: boolean;
  /** Factory image installed on every DPU unless `blank`. Default `dpu-os-1.0.iso`. */
  readonly factoryImage?: string;
  /** Progress messages (for the CLI). */
  readonly onProgress?: (message: string) => void;
  /**
   * Exec audit (secret-hygiene tests): strace follows every DPU's sshd and records the argv of every process
   * run on the DPU through SSH; read it with {@link Lab.execAudit}. Needs `strace`. Default false.
   */
  readonly execAudit?: boolean;
  /**
   * Backend of every DPU, or one per DPU index (missing entries: `namespace`). Default `namespace`. VM DPUs
   * boot the DPU OS ISO built by simulator/vm/build-image.sh (cached), served as `dpu-os-vm.iso`; their
   * factory image defaults to it, and their BMCs default to a 500 ms simulated firmware phase (the guest's own
   * boot comes on top).
   */
  readonly backend?: LabBackendKind | readonly LabBackendKind[];
  /** VM firmware: `auto` (default: UEFI on the bluefield profile, BIOS otherwise), `bios` or `uefi`. */
  readonly vmFirmware?: VmFirmware | "auto";
  /**
   * The OS image's `/bin/sh` on every namespace DPU, or one per DPU index (missing entries: the default):
   * `dash` (the Debian/Ubuntu-like image; root's login shell bash) or `busybox` (a minimal image: busybox ash is
   * `/bin/sh` and root's login shell, no bash). Default: the `PULUMI_DPU_LAB_SHELL` environment variable
   * (see `LAB_SHELL_ENV` in simulator/dpu/os-shell.ts) when set, else `dash`. VM DPUs run a real Debian (dash); `busybox` for one is an error.
   */
  readonly shell?: DpuShell | readonly DpuShell[];
}

/** One DPU of a running lab (its name, profile, BMC, backend, management address and namespace: what the dashboard watches). */
export interface LabDpu extends DashboardTarget {
  /** Backend kind of this DPU (absent: `namespace`). */
  readonly backendKind?: LabBackendKind;
  readonly ports: readonly DpuPort[];
  /** The OS image's `/bin/sh` ({@link LabOptions.shell}); `dash` for a VM DPU. */
  readonly shell: DpuShell;
  /** Fingerprint of the DPU's current host key (`SHA256:…`), `undefined` when blank. */
  hostKeyFingerprint(): string | undefined;
}

/** A running lab. */
export interface Lab {
  /** Endpoints as written by `sim --endpoints-file` (host key fingerprints as of lab start). */
  readonly endpoints: EndpointsFile;
  readonly dpus: ReadonlyMap<string, LabDpu>;
  /** `http://127.0.0.1:<port>` of the control API. */
  readonly controlUrl: string;
  /**
   * `http://127.0.0.1:<port>/`: the live fleet dashboard, served by the control API (`GET /api/fleet`,
   * `GET /api/events` for its data). Absent on the lightweight lab, whose DPUs share one OS.
   */
  readonly dashboardUrl?: string;
  /** Base URL of the image server. */
  readonly imageBaseUrl: string;
  readonly stateDir: string;
  /** Lab slot (0..63): decides the management subnet 198.18.(4·slot).0/22 and object names `pds<slot>…`. */
  readonly slot: number;
  /** Path of the SSH private key authorized for root on every DPU. */
  readonly sshPrivateKeyFile: string;
  /** CA certificate (PEM file) of the lab's HTTPS endpoints. */
  readonly caFile: string;
  /** Adds an image to the image server (for tests and demos). */
  addImage(name: string, bytes: Buffer): Promise<ImageFileInfo>;
  /** Successful GETs of image `name` served so far (a BMC fetching it, or a provider measuring it). */
  imageHits(name: string): number;
  /**
   * With `execAudit`: the strace records (`execve(...)` lines with full argv) of every process started on any
   * DPU through SSH since the lab started, across reboots. Empty string without `execAudit`.
   */
  execAudit(): string;
  /** Removes every namespace, link, mount, process, lock and state directory the lab created. Idempotent. */
  stop(): Promise<void>;
}

/** Directory entries the lab creates inside a caller-provided state directory. */
const STATE_ENTRIES = ["pki", "ssh", "images", "dpus", "audit"] as const;
/** DPUs installed and booted at once during start. */
const BOOT_CONCURRENCY = 6;

function backendFor(opts: LabOptions, index: number): LabBackendKind {
  const b = opts.backend ?? "namespace";
  return typeof b === "string" ? b : (b[index] ?? "namespace");
}

/** Hard-links `from` to `to` (same filesystem), else copies it. */
async function linkOrCopy(from: string, to: string): Promise<void> {
  await rm(to, { force: true });
  try {
    await link(from, to);
  } catch {
    await copyFile(from, to);
  }
}

/**
 * The shell of DPU `index`: the `shell` option's (single or per index), else the `PULUMI_DPU_LAB_SHELL` environment variable's, else
 * `dash`. Throws on an unknown name.
 */
export function shellFor(shell: DpuShell | readonly DpuShell[] | undefined, index: number): DpuShell {
  const chosen = typeof shell === "string" ? shell : shell?.[index];
  if (chosen !== undefined) {
    if (!isDpuShell(chosen)) throw new Error(`shell of DPU ${index}: unknown shell '${String(chosen)}'`);
    return chosen;
  }
  return labShellFromEnv() ?? DEFAULT_DPU_SHELL;
}

function profileFor(profile: LabProfile, index: number, cycle: readonly BmcProfileName[]): BmcProfileName {
  if (typeof profile !== "string") return profile[index % profile.length]!;
  return profile === "mixed" ? cycle[index % cycle.length]! : profile;
}

/** The profile of DPU `index`: one for all, `mixed` (the cycle), or a list (DPU i gets entry i, cycled). */
export function labProfileOf(
  profile: LabProfile,
  index: number,
  cycle: readonly BmcProfileName[],
): BmcProfileName {
  return profileFor(profile, index, cycle);
}

function validate(opts: LabOptions): void {
  const p = opts.profile ?? "generic";
  const list: readonly string[] = typeof p === "string" ? (p === "mixed" ? [] : [p]) : p;
  if (typeof p !== "string" && p.length === 0) throw new Error("profile: an empty list of profiles");
  for (const one of list) {
    if (!(ALL_BMC_PROFILES as readonly string[]).includes(one)) {
      throw new Error(`unknown profile '${one}' (known: ${ALL_BMC_PROFILES.join(", ")}, mixed)`);
    }
  }
  if (opts.bootTimeMs !== undefined && (!Number.isFinite(opts.bootTimeMs) || opts.bootTimeMs < 0)) {
    throw new Error(`bootTimeMs must be a non-negative number, got ${opts.bootTimeMs}`);
  }
  for (let i = 0; i < opts.count; i++) {
    const explicit = typeof opts.shell === "string" ? opts.shell : opts.shell?.[i];
    const s = shellFor(opts.shell, i);
    if (explicit !== undefined && backendFor(opts, i) === "vm" && s !== "dash") {
      throw new Error(
        `shell of DPU ${i}: a VM DPU runs the Debian DPU OS image, whose /bin/sh is dash, not ${s}`,
      );
    }
  }
  checkLabStart(opts.count);
}

/** Removes `dir`, then its parents up to `top`, each only while empty (a directory holding anything stays). */
async function removeEmptyDirs(dir: string, top: string): Promise<void> {
  for (let d = dir; ; d = dirname(d)) {
    try {
      await rmdir(d);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOTEMPTY" || (e as NodeJS.ErrnoException).code === "EEXIST")
        return;
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    }
    if (d === top || dirname(d) === d) return;
  }
}

/**
 * Starts a DPU lab: lab PKI, SSH client key, image server, the network (management bridge, ToR switch, one
 * namespace per DPU), a Redfish BMC per DPU and the control API. Unless `blank`, every DPU gets the factory
 * image installed and is powered on; the promise resolves once every DPU's sshd accepts connections.
 * On failure everything created so far is removed.
 */
export async function startLab(opts: LabOptions): Promise<Lab> {
  validate(opts);
  const progress = opts.onProgress ?? (() => {});
  const profile = opts.profile ?? "generic";
  const mixed = profile === "mixed" ? mixedProfiles() : undefined;
  const cycle = mixed?.profiles ?? [];
  if (mixed?.note) progress(mixed.note);
  // Only a directory the lab made up itself is the lab's: one the caller named is not, even when the lab had to
  // create it (the user may put their own files there while it runs). There, stop() removes the lab's entries,
  // then the directories mkdir created, only if the caller left nothing in them.
  const ownsStateDir = opts.stateDir === undefined;
  const stateDir = opts.stateDir ? resolve(opts.stateDir) : await mkdtemp(join(tmpdir(), "pulumi-dpu-sim-"));
  const firstCreated = await mkdir(stateDir, { recursive: true, mode: 0o700 });

  const backends: (NamespaceDpu | VmDpu)[] = [];
  const parts: LabParts = { bmcs: [], oses: backends };
  const stop = labStopper(parts, "lab", 16, async (attempt) => {
    if (ownsStateDir) {
      await attempt(() => rm(stateDir, { recursive: true, force: true }));
      return;
    }
    for (const e of [...STATE_ENTRIES, "endpoints.json"]) {
      await attempt(() => rm(join(stateDir, e), { recursive: true, force: true }));
    }
    if (firstCreated) await attempt(() => removeEmptyDirs(stateDir, firstCreated));
  });

  try {
    const slot = await acquireSlot({ stateDir, ownsStateDir, stateEntries: [...STATE_ENTRIES] });
    parts.slot = slot;
    const plan = slotPlan(slot.slot);
    progress(`slot ${slot.slot}: management network ${plan.bridgeIp}/${plan.prefixLength} on ${plan.bridge}`);

    const [pki, sshKey] = await Promise.all([
      createLabPki(join(stateDir, "pki")),
      createLabSshKey(stateDir, "pulumi-dpu-sim", true),
    ]);

    const imageDir = join(stateDir, "images");
    await ensureStandardImages(imageDir);
    const kinds = Array.from({ length: opts.count }, (_, i) => backendFor(opts, i));
    const vmIndexes = new Set(kinds.flatMap((k, i) => (k === "vm" ? [i] : [])));
    if (vmIndexes.size > 0) {
      const t = Date.now();
      const vmImage = await ensureVmImage({ onProgress: (l) => progress(`DPU OS image: ${l}`) });
      await linkOrCopy(vmImage.iso, join(imageDir, VM_IMAGE_FILE));
      progress(
        `DPU OS image ${vmImage.inputsHash} ${vmImage.built ? "built" : "cached"} in ${Date.now() - t} ms`,
      );
    }
    const images = await startImageServer({ dir: imageDir });
    parts.images = images;
    const imageFiles = images.files();
    const factoryFor = (kind: LabBackendKind): ImageFileInfo | undefined => {
      const factoryName = opts.factoryImage ?? (kind === "vm" ? VM_IMAGE_FILE : "dpu-os-1.0.iso");
      const found = imageFiles.find((f) => f.name === factoryName);
      if (!opts.blank && (!found || found.kind === "other")) {
        throw new Error(`factory image ${factoryName} is not a bootable image of the image server`);
      }
      return found;
    };
    for (const k of new Set(kinds)) factoryFor(k);
    progress(`image server ${images.baseUrl} (${imageFiles.length} images)`);

    const t0 = Date.now();
    await buildNetwork(plan, opts.count, vmIndexes);
    progress(`network for ${opts.count} DPUs ready in ${Date.now() - t0} ms`);

    const dpus = new Map<string, LabDpu>();
    const order = Array.from({ length: opts.count }, (_, i) => plan.dpu(i));
    const auditFile = (name: string): string => join(stateDir, "audit", `${name}.strace`);
    if (opts.execAudit) await mkdir(join(stateDir, "audit"), { recursive: true, mode: 0o700 });
    for (const d of order) {
      if (vmIndexes.has(d.index)) {
        const firmware =
          opts.vmFirmware && opts.vmFirmware !== "auto"
            ? opts.vmFirmware
            : profileFor(profile, d.index, cycle) === "bluefield"
              ? "uefi"
              : "bios";
        backends.push(
          createVmDpu({
            name: d.name,
            dir: join(stateDir, "dpus", d.name),
            mgmtIp: d.mgmtIp,
            mgmtPrefixLength: plan.prefixLength,
            mgmtBridge: plan.bridge,
            mgmtTap: d.hostLink,
            torNetns: plan.torNetns,
            torBridge: plan.torBridge,
            torLinks: d.torLinks,
            ports: d.ports,
            authorizedKeys: [sshKey.publicKey],
            nameservers: [plan.bridgeIp],
            caFile: pki.caFile,
            firmware,
          }),
        );
        continue;
      }
      backends.push(
        createNamespaceDpu({
          name: d.name,
          netns: d.netns,
          mgmtIp: d.mgmtIp,
          mgmtPrefixLength: plan.prefixLength,
          dir: join(stateDir, "dpus", d.name),
          ports: d.ports,
          authorizedKeys: [sshKey.publicKey],
          nameservers: [plan.bridgeIp],
          shell: shellFor(opts.shell, d.index),
          ...(opts.execAudit ? { execAuditFile: auditFile(d.name) } : {}),
        }),
      );
    }
    let ready = 0;
    await mapLimit(order, BOOT_CONCURRENCY, async (d, i) => {
      const backend = backends[i]!;
      const p = profileFor(profile, i, cycle);
      const kind = kinds[i]!;
      const factory = factoryFor(kind);
      const bmc = await startLabBmc(parts, pki, {
        name: d.name,
        profile: p,
        backend,
        bootTimeMs: opts.bootTimeMs ?? (kind === "vm" ? 500 : 3000),
        ...(opts.quirkTiming ? { quirkTiming: opts.quirkTiming } : {}),
      });
      dpus.set(d.name, {
        name: d.name,
        profile: p,
        bmc,
        backend,
        mgmtIp: d.mgmtIp,
        netns: kind === "vm" ? "" : d.netns,
        backendKind: kind,
        ports: d.ports,
        shell: "shell" in backend ? backend.shell : "dash",
        hostKeyFingerprint: () => backend.hostKeyFingerprint(),
      });
      if (!opts.blank && factory) {
        await backend.install(bootImageOf(factory));
        await bmc.powerOnAndWait();
      }
      ready++;
      if (ready % 10 === 0 || ready === opts.count) progress(`${ready}/${opts.count} DPUs ready`);
    });
    const sorted = new Map([...order].map((d) => [d.name, dpus.get(d.name)!]));

    const control = await startControlServer(sorted, { dashboard: createDashboard(sorted.values()) });
    parts.control = control;
    const endpoints = labEndpoints(sorted.values(), pki.caFile, sshKey.file, control.url, images);
    const server = images;
    return {
      endpoints,
      dpus: sorted,
      controlUrl: control.url,
      dashboardUrl: `${control.url}/`,
      imageBaseUrl: server.baseUrl,
      stateDir,
      slot: slot.slot,
      sshPrivateKeyFile: sshKey.file,
      caFile: pki.caFile,
      addImage: (name, bytes) => server.addImage(name, bytes),
      imageHits: (name) => server.hits(name),
      execAudit: () =>
        opts.execAudit
          ? order
              .map((d) => {
                try {
                  return readFileSync(auditFile(d.name), "utf8");
                } catch {
                  return "";
                }
              })
              .join("")
          : "",
      stop,
    };
  } catch (e) {
    try {
      await stop();
    } catch {
      // report the start failure, not the cleanup's
    }
    throw e;
  }
}
