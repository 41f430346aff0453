import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createBmc } from "../bmc";
import type { CreateBmcOptions } from "../bmc/create-bmc";
import type { BootImage, EndpointsFile, ImageFileInfo, SimBmc } from "../contracts";
import { mapLimit } from "../dpu/exec";
import { labToolsProblem } from "../dpu/host-tools";
import { generateEd25519KeyPair } from "../dpu/ssh-keys";
import type { ImageServer } from "../images";
import type { LabPki } from "../tls";
import { MAX_DPUS } from "./address-plan";
import type { ControlServer } from "./control-server";
import { teardownSlot } from "./network";
import type { SlotHandle } from "./slots";

/** Resolves once none of `pids` exists any more, or rejects after `timeoutMs`. */
export async function waitForExit(pids: readonly number[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = pids.filter((p) => existsSync(`/proc/${p}`));
    if (left.length === 0) return;
    if (Date.now() > deadline) throw new Error(`DPU processes ${left.join(", ")} did not exit`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Refuses a DPU count outside 1..{@link MAX_DPUS}, a caller that is not root and a machine without the lab's
 * tools (naming the apt-get command): both lab kinds need all three, checked before anything starts.
 */
export function checkLabStart(count: number): void {
  if (!Number.isInteger(count) || count < 1 || count > MAX_DPUS) {
    throw new Error(`count must be an integer from 1 to ${MAX_DPUS}, got ${count}`);
  }
  if (typeof process.getuid === "function" && process.getuid() !== 0) {
    throw new Error("the DPU lab needs root (network namespaces, bridges, mounts); run it as root");
  }
  const tools = labToolsProblem();
  if (tools) throw new Error(tools);
}

/** A DPU OS process the lab started (namespace or VM): its init, and a way to kill it without waiting. */
export interface LabOsProcess {
  initPid(): number | undefined;
  abandon(): void;
}

/** What a starting lab has created so far; {@link labStopper} removes whatever is there. */
export interface LabParts {
  slot?: SlotHandle;
  images?: ImageServer;
  control?: ControlServer;
  readonly bmcs: SimBmc[];
  /** The DPU OS processes (the lab's own array: what it adds later is stopped too). */
  readonly oses: readonly LabOsProcess[];
}

/**
 * The idempotent `stop()` of a lab: control API, DPU processes, BMCs, image server, the slot's network, then
 * the state (`removeState`); every step is tried, and the errors are reported together, prefixed by `label`.
 */
export function labStopper(
  parts: LabParts,
  label: string,
  bmcConcurrency: number,
  removeState: (attempt: (fn: () => Promise<unknown>) => Promise<void>) => Promise<void>,
): () => Promise<void> {
  let stopped: Promise<void> | undefined;
  return () => {
    stopped ??= (async () => {
      const errors: unknown[] = [];
      const attempt = async (fn: () => Promise<unknown>): Promise<void> => {
        try {
          await fn();
        } catch (e) {
          errors.push(e);
        }
      };
      await attempt(async () => parts.control?.close());
      const inits = parts.oses.map((b) => b.initPid()).filter((p): p is number => p !== undefined);
      for (const b of parts.oses) b.abandon();
      await attempt(() => mapLimit(parts.bmcs, bmcConcurrency, (b) => b.close()));
      await attempt(async () => parts.images?.close());
      const slot = parts.slot;
      if (slot) {
        await attempt(() => teardownSlot(slot.slot));
        slot.release();
      }
      // Killed inits linger as zombies until their parents reap them; stop() returns once they are gone.
      await attempt(() => waitForExit(inits, 10_000));
      await removeState(attempt);
      if (errors.length > 0) {
        throw new Error(
          `${label} stop: ${errors.map((e) => (e instanceof Error ? e.message : String(e))).join("; ")}`,
        );
      }
    })();
    return stopped;
  };
}

/** The lab's SSH client key (`<stateDir>/ssh/id_ed25519`, and `.pub` when `withPublicFile`). */
export async function createLabSshKey(
  stateDir: string,
  comment: string,
  withPublicFile: boolean,
): Promise<{ readonly file: string; readonly publicKey: string }> {
  await mkdir(join(stateDir, "ssh"), { recursive: true, mode: 0o700 });
  const pair = generateEd25519KeyPair(comment);
  const file = join(stateDir, "ssh", "id_ed25519");
  await writeFile(file, pair.privateKey, { mode: 0o600 });
  if (withPublicFile) await writeFile(`${file}.pub`, `${pair.publicKey}\n`, { mode: 0o644 });
  return { file, publicKey: pair.publicKey };
}

/** The {@link BootImage} of an image the lab's image server serves. */
export function bootImageOf(f: ImageFileInfo): BootImage {
  return {
    url: f.url,
    sha256: f.sha256,
    sizeBytes: f.sizeBytes,
    kind: f.kind === "bfb" ? "bfb" : "iso",
    label: f.label ?? f.name,
  };
}

/** One DPU as the endpoints file needs it. */
export interface EndpointDpu {
  readonly name: string;
  readonly profile: EndpointsFile["dpus"][number]["profile"];
  readonly bmc: SimBmc;
  readonly mgmtIp: string;
  readonly ports: EndpointsFile["dpus"][number]["ports"];
  hostKeyFingerprint(): string | undefined;
}

/** The endpoints file of a running lab (host key fingerprints as of now). */
export function labEndpoints(
  dpus: Iterable<EndpointDpu>,
  caFile: string,
  sshKeyFile: string,
  controlUrl: string,
  images: ImageServer,
): EndpointsFile {
  return {
    dpus: [...dpus].map((d) => ({
      name: d.name,
      profile: d.profile,
      bmc: {
        url: d.bmc.url,
        username: d.bmc.username,
        password: d.bmc.password,
        caCertFile: caFile,
        systemId: d.bmc.systemId,
      },
      ssh: {
        host: d.mgmtIp,
        port: 22,
        username: "root",
        privateKeyFile: sshKeyFile,
        hostKeyFingerprint: d.hostKeyFingerprint() ?? "",
      },
      ports: d.ports,
    })),
    control: { url: controlUrl },
    images: { baseUrl: images.baseUrl, files: images.files() },
  };
}

/**
 * Starts the BMC of one lab DPU: HTTPS with the lab's certificate, user `admin` with a random password, and
 * registers it in `parts` (so that stop() closes it).
 */
export async function startLabBmc(
  parts: LabParts,
  pki: LabPki,
  opts: Pick<CreateBmcOptions, "name" | "profile" | "backend" | "bootTimeMs" | "quirkTiming">,
): Promise<SimBmc> {
  const bmc = await createBmc({
    ...opts,
    tls: { key: pki.key, cert: pki.cert },
    caFile: pki.caFile,
    username: "admin",
    password: randomBytes(12).toString("base64url"),
  });
  parts.bmcs.push(bmc);
  return bmc;
}
