import { DpuError } from "../errors/dpu-error";
import { type Logger, publicUrl, registerSecret } from "../log";
import {
  type BmcCapabilities,
  type BootMethod,
  ejectMedia,
  insertMedia,
  type RedfishClient,
  readSlotFresh,
  simpleUpdateRefusal,
  type VirtualMediaSlot,
} from "../redfish";
import { pinnedFingerprint } from "../ssh/fingerprint";
import { type StagedIdentity, stageIdentity, UEFI_HTTP_IDENTITY_REFUSAL } from "./deliver";
import { type GeneratedHostKey, generateHostKey } from "./host-key";
import type { DpuHostInputs, DpuHostOutputs, IdentitySeedRecord } from "./inputs.schema";
import { ejectLeftSeed } from "./seed-cleanup";
import { chooseSeedSlot, foreignMediaRefusal, seedSlotHolds } from "./seed-slot";

/** The image as a bundle or a bootable image: the method an identity is staged for before discovery. */
function predictedMethod(inputs: DpuHostInputs): BootMethod {
  if (inputs.image.method) return inputs.image.method;
  return /\.bfb(\?|$)/i.test(new URL(inputs.image.url).pathname) ? "simpleUpdate" : "virtualMedia";
}

/** The host key of a previous run of this resource (kept secret in state), or a new one. */
function hostKeyFor(prior: DpuHostOutputs | undefined): GeneratedHostKey {
  const kept = prior?.identityHostKey;
  if (kept?.privateKey && kept.publicKey) {
    registerSecret(kept.privateKey);
    return { ...kept, fingerprint: pinnedFingerprint(kept.publicKey) };
  }
  return generateHostKey();
}

/** What an install with an identity adds to the canonical sequence. */
export interface IdentityInstall {
  /** The staged seed. */
  readonly staged: StagedIdentity;
  /** The method it was staged for. */
  readonly method: BootMethod;
  /** Inputs whose SSH probe pins the generated host key (when one was generated and none is pinned). */
  readonly pinnedInputs: DpuHostInputs;
  /**
   * Checks, once the BMC's capabilities are known and before any state change, that the seed can travel with
   * `method`; returns the slot for the seed volume (virtual media). Throws with the reason otherwise (`bmc`, the
   * BMC's origin, is named where the reason is about its media).
   */
  check(method: BootMethod, caps: BmcCapabilities, bmc: string): VirtualMediaSlot | undefined;
  /** The URL SimpleUpdate fetches (the BFB with its bf.cfg) instead of image.url. */
  readonly installUrl: string | undefined;
  /** sha256 the running image reports when the staged object is what the DPU installed (bf.cfg appended). */
  readonly installedSha256: string | undefined;
  /** Puts the seed volume into its slot (ejecting a DpuHost seed found there; anything else is refused). */
  insertSeed(client: RedfishClient, slot: VirtualMediaSlot, timeoutMs: number, log: Logger): Promise<void>;
  /** Takes the seed volume out (the seed may hold secrets). */
  ejectSeed(client: RedfishClient, slot: VirtualMediaSlot): Promise<void>;
  /** The identity fields of the outputs (the seed digest, never the seed; the generated key, secret). */
  outputs(): Pick<DpuHostOutputs, "identitySeed" | "identityHostKey">;
  /** Removes the staged objects and releases the stage. */
  close(): Promise<void>;
}

/**
 * Builds and stages the identity's seed for the install, before anything is sent to the BMC. Undefined when the
 * inputs declare no identity. A failure to reach the stage is raised here.
 */
export async function prepareIdentity(
  inputs: DpuHostInputs,
  prior: DpuHostOutputs | undefined,
  log: Logger,
): Promise<IdentityInstall | undefined> {
  const identity = inputs.identity;
  if (identity === undefined) return undefined;
  // The resource and its BMC are named once, by the provider's error prefix.
  const where = "deliver the identity";
  if (inputs.stage === undefined) {
    throw new DpuError(
      "DPU_IDENTITY_UNSUPPORTED",
      `${where}: it needs an image stage (stage: builtin, httpPut or sftp) the BMC can fetch the seed from`,
    );
  }
  const method = predictedMethod(inputs);
  const hostKey = identity.hostKey === "generate" ? hostKeyFor(prior) : undefined;
  const staged = await stageIdentity({
    identity,
    ...(hostKey ? { hostKey } : {}),
    method,
    stage: inputs.stage,
    bfb: {
      url: inputs.image.url,
      ...(inputs.image.sha256 ? { sha256: inputs.image.sha256 } : {}),
      ...(inputs.image.username ? { username: inputs.image.username } : {}),
      ...(inputs.image.password ? { password: inputs.image.password } : {}),
      ...((inputs.image.caCert ?? inputs.bmc.caCert)
        ? { caCert: inputs.image.caCert ?? inputs.bmc.caCert }
        : {}),
      timeoutMs: inputs.image.timeoutMs,
    },
    log,
    where,
  });
  const ssh = inputs.ready.ssh;
  const pinnedInputs: DpuHostInputs =
    ssh && !ssh.hostKey && staged.hostKeyFingerprint
      ? { ...inputs, ready: { ...inputs.ready, ssh: { ...ssh, hostKey: staged.hostKeyFingerprint } } }
      : inputs;
  if (staged.hostKeyFingerprint) {
    log.info(`identity: host key ${staged.hostKeyFingerprint} pinned before first contact`);
  } else if (ssh && !ssh.hostKey) {
    log.info(
      "identity: the image makes its own host key; it is trusted on first use (TOFU) and pinned after",
    );
  }
  const record: IdentitySeedRecord = {
    kind: staged.kind,
    sha256: staged.seedSha256,
    ...(staged.hostKeyFingerprint ? { hostKeyFingerprint: staged.hostKeyFingerprint } : {}),
  };
  return {
    staged,
    method,
    pinnedInputs,
    installUrl: staged.kind === "bf.cfg" ? staged.url : undefined,
    installedSha256: staged.kind === "bf.cfg" ? staged.objectSha256 : undefined,
    check(chosen, caps, bmc) {
      // image.method unset and the BMC boots this image only by UEFI HTTP: say why no seed can go with it.
      if (chosen === "uefiHttp") {
        throw new DpuError(
          "DPU_IDENTITY_UNSUPPORTED",
          `this BMC would install the image by UEFI HTTP boot (${caps.unavailable?.virtualMedia ? `virtual media: ${caps.unavailable.virtualMedia}` : "virtual media is not usable for it"}), and ${UEFI_HTTP_IDENTITY_REFUSAL}`,
        );
      }
      if (chosen !== method) {
        throw new DpuError(
          "DPU_IDENTITY_UNSUPPORTED",
          `the identity was prepared for ${method} but the install uses ${chosen}; set image.method to virtualMedia (NoCloud volume) or simpleUpdate (bf.cfg)`,
        );
      }
      if (chosen === "simpleUpdate") {
        const why = simpleUpdateRefusal(caps, staged.url);
        if (why) throw new DpuError("DPU_IDENTITY_UNSUPPORTED", `the staged BFB ${staged.url}: ${why}`);
        return undefined;
      }
      const r = chooseSeedSlot(caps.virtualMedia.slots, caps.virtualMedia.chosen, bmc);
      if ("refusal" in r) throw new DpuError("DPU_IDENTITY_UNSUPPORTED", r.refusal);
      return r.slot;
    },
    async insertSeed(client, slot, timeoutMs, l) {
      // Read again: media someone put in since discovery are refused, never ejected.
      const now = await readSlotFresh(client, slot);
      if (seedSlotHolds(now) !== undefined) {
        throw new DpuError("DPU_IDENTITY_UNSUPPORTED", foreignMediaRefusal([now], client.origin));
      }
      const empty = await ejectMedia(client, now, { timeoutMs, fresh: true });
      await insertMedia(client, empty, staged.url, { timeoutMs });
      l.info(`identity: NoCloud seed inserted in virtual media ${slot.id} (${publicUrl(staged.url)})`);
    },
    async ejectSeed(client, slot) {
      // By digest: the same seed served from another stage URL (a stage moved since a stopped run) is ours too.
      await ejectLeftSeed(client, [slot], { kind: staged.kind, sha256: staged.seedSha256 });
    },
    outputs() {
      return {
        identitySeed: record,
        ...(hostKey
          ? { identityHostKey: { privateKey: hostKey.privateKey, publicKey: hostKey.publicKey } }
          : {}),
      };
    },
    close: () => staged.close(),
  };
}
