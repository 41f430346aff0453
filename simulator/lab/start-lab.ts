import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { utils } from "ssh2";
import { createBmc } from "../bmc";
import {
  BMC_PROFILES,
  type BmcProfileName,
  type BootImage,
  type DpuOsBackend,
  type DpuPort,
  type EndpointsFile,
  type ImageFileInfo,
  type SimBmc,
} from "../contracts";
import { createNamespaceDpu, type NamespaceDpu } from "../dpu";
import { mapLimit } from "../dpu/exec";
import { ensureStandardImages, type ImageServer, startImageServer } from "../images";
import { createLabPki } from "../tls";
import { MAX_DPUS, slotPlan } from "./address-plan";
import { type ControlServer, startControlServer } from "./control-server";
import { buildNetwork, teardownSlot } from "./network";
import { acquireSlot, type SlotHandle } from "./slots";

/** Resolves once none of `pids` exists any more, or rejects after `timeoutMs`. */
async function waitForExit(pids: readonly number[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = pids.filter((p) => existsSync(`/proc/${p}`));
    if (left.length === 0) return;
    if (Date.now() > deadline) throw new Error(`DPU processes ${left.join(", ")} did not exit`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Profile choice of a lab: one BMC profile for all DPUs, or `mixed` (cycling through every profile). */
export type LabProfile = BmcProfileName | "mixed";

/** Options of {@link startLab}. */
export interface LabOptions {
  /** Number of DPUs (1..1000). */
  readonly count: number;
  /** BMC profile of every DPU, or `mixed` (generic, dell, bluefield, intel-ipu, …). Default `generic`. */
  readonly profile?: LabProfile;
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
}

/** One DPU of a running lab. */
export interface LabDpu {
  readonly name: string;
  readonly profile: BmcProfileName;
  readonly bmc: SimBmc;
  readonly backend: DpuOsBackend;
  readonly mgmtIp: string;
  /** Network namespace the DPU lives in. */
  readonly netns: string;
  readonly ports: readonly DpuPort[];
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
  /** Removes every namespace, link, mount, process, lock and state directory the lab created. Idempotent. */
  stop(): Promise<void>;
}

/** Directory entries the lab creates inside a caller-provided state directory. */
const STATE_ENTRIES = ["pki", "ssh", "images", "dpus"] as const;
/** DPUs installed and booted at once during start. */
const BOOT_CONCURRENCY = 6;

function profileFor(profile: LabProfile, index: number): BmcProfileName {
  return profile === "mixed" ? BMC_PROFILES[index % BMC_PROFILES.length]! : profile;
}

function validate(opts: LabOptions): void {
  if (!Number.isInteger(opts.count) || opts.count < 1 || opts.count > MAX_DPUS) {
    throw new Error(`count must be an integer from 1 to ${MAX_DPUS}, got ${opts.count}`);
  }
  const p = opts.profile ?? "generic";
  if (p !== "mixed" && !(BMC_PROFILES as readonly string[]).includes(p)) {
    throw new Error(`unknown profile '${p}' (known: ${BMC_PROFILES.join(", ")}, mixed)`);
  }
  if (opts.bootTimeMs !== undefined && (!Number.isFinite(opts.bootTimeMs) || opts.bootTimeMs < 0)) {
    throw new Error(`bootTimeMs must be a non-negative number, got ${opts.bootTimeMs}`);
  }
  if (typeof process.getuid === "function" && process.getuid() !== 0) {
    throw new Error("the DPU lab needs root (network namespaces, bridges, mounts); run it as root");
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
  const ownsStateDir = opts.stateDir === undefined || !existsSync(opts.stateDir);
  const stateDir = opts.stateDir ? resolve(opts.stateDir) : await mkdtemp(join(tmpdir(), "pulumi-dpu-sim-"));
  await mkdir(stateDir, { recursive: true, mode: 0o700 });

  let slot: SlotHandle | undefined;
  let images: ImageServer | undefined;
  let control: ControlServer | undefined;
  const bmcs: SimBmc[] = [];
  const backends: NamespaceDpu[] = [];
  let stopped: Promise<void> | undefined;

  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      const errors: unknown[] = [];
      const attempt = async (fn: () => Promise<unknown>): Promise<void> => {
        try {
          await fn();
        } catch (e) {
          errors.push(e);
        }
      };
      await attempt(async () => control?.close());
      const inits = backends.map((b) => b.initPid()).filter((p): p is number => p !== undefined);
      for (const b of backends) b.abandon();
      await attempt(() => mapLimit(bmcs, 16, (b) => b.close()));
      await attempt(async () => images?.close());
      if (slot) {
        await attempt(() => teardownSlot(slot!.slot));
        slot.release();
      }
      // Killed inits linger as zombies until their parents reap them; stop() returns once they are gone.
      await attempt(() => waitForExit(inits, 10_000));
      if (ownsStateDir) {
        await attempt(() => rm(stateDir, { recursive: true, force: true }));
      } else {
        for (const e of [...STATE_ENTRIES, "endpoints.json"]) {
          await attempt(() => rm(join(stateDir, e), { recursive: true, force: true }));
        }
      }
      if (errors.length > 0) {
        throw new Error(
          `lab stop: ${errors.map((e) => (e instanceof Error ? e.message : String(e))).join("; ")}`,
        );
      }
    })();
    return stopped;
  };

  try {
    slot = await acquireSlot({ stateDir, ownsStateDir, stateEntries: [...STATE_ENTRIES] });
    const plan = slotPlan(slot.slot);
    progress(`slot ${slot.slot}: management network ${plan.bridgeIp}/${plan.prefixLength} on ${plan.bridge}`);

    const [pki, sshKey] = await Promise.all([
      createLabPki(join(stateDir, "pki")),
      (async () => {
        await mkdir(join(stateDir, "ssh"), { recursive: true, mode: 0o700 });
        const pair = utils.generateKeyPairSync("ed25519", { comment: "pulumi-dpu-sim" });
        const file = join(stateDir, "ssh", "id_ed25519");
        await writeFile(file, pair.private, { mode: 0o600 });
        await writeFile(`${file}.pub`, `${pair.public}\n`, { mode: 0o644 });
        return { file, publicKey: pair.public };
      })(),
    ]);

    const imageDir = join(stateDir, "images");
    await ensureStandardImages(imageDir);
    images = await startImageServer({ dir: imageDir });
    const imageFiles = images.files();
    const factoryName = opts.factoryImage ?? "dpu-os-1.0.iso";
    const factory = imageFiles.find((f) => f.name === factoryName);
    if (!opts.blank && (!factory || factory.kind === "other")) {
      throw new Error(`factory image ${factoryName} is not a bootable image of the image server`);
    }
    progress(`image server ${images.baseUrl} (${imageFiles.length} images)`);

    const t0 = Date.now();
    await buildNetwork(plan, opts.count);
    progress(`network for ${opts.count} DPUs ready in ${Date.now() - t0} ms`);

    const dpus = new Map<string, LabDpu>();
    const order = Array.from({ length: opts.count }, (_, i) => plan.dpu(i));
    for (const d of order) {
      backends.push(
        createNamespaceDpu({
          name: d.name,
          netns: d.netns,
          mgmtIp: d.mgmtIp,
          dir: join(stateDir, "dpus", d.name),
          ports: d.ports,
          authorizedKeys: [sshKey.publicKey],
          nameservers: [plan.bridgeIp],
        }),
      );
    }
    let ready = 0;
    await mapLimit(order, BOOT_CONCURRENCY, async (d, i) => {
      const backend = backends[i]!;
      const p = profileFor(profile, i);
      const bmc = await createBmc({
        name: d.name,
        profile: p,
        backend,
        tls: { key: pki.key, cert: pki.cert },
        caFile: pki.caFile,
        username: "admin",
        password: randomBytes(12).toString("base64url"),
        bootTimeMs: opts.bootTimeMs ?? 3000,
      });
      bmcs.push(bmc);
      dpus.set(d.name, {
        name: d.name,
        profile: p,
        bmc,
        backend,
        mgmtIp: d.mgmtIp,
        netns: d.netns,
        ports: d.ports,
        hostKeyFingerprint: () => backend.hostKeyFingerprint(),
      });
      if (!opts.blank && factory) {
        const image: BootImage = {
          url: factory.url,
          sha256: factory.sha256,
          sizeBytes: factory.sizeBytes,
          kind: factory.kind === "bfb" ? "bfb" : "iso",
          label: factory.label ?? factory.name,
        };
        await backend.install(image);
        await bmc.powerOnAndWait();
      }
      ready++;
      if (ready % 10 === 0 || ready === opts.count) progress(`${ready}/${opts.count} DPUs ready`);
    });
    const sorted = new Map([...order].map((d) => [d.name, dpus.get(d.name)!]));

    control = await startControlServer(sorted);
    const endpoints: EndpointsFile = {
      dpus: [...sorted.values()].map((d) => ({
        name: d.name,
        profile: d.profile,
        bmc: {
          url: d.bmc.url,
          username: d.bmc.username,
          password: d.bmc.password,
          caCertFile: pki.caFile,
          systemId: d.bmc.systemId,
        },
        ssh: {
          host: d.mgmtIp,
          port: 22,
          username: "root",
          privateKeyFile: sshKey.file,
          hostKeyFingerprint: d.hostKeyFingerprint() ?? "",
        },
        ports: d.ports,
      })),
      control: { url: control.url },
      images: { baseUrl: images.baseUrl, files: imageFiles },
    };
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
      addImage: (name, bytes) => server.addImage(name, bytes),
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
