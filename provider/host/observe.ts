import { type Logger, publicUrl } from "../log";
import { readSlot, readSystem, sameImage } from "../redfish";
import { bmcClient, sshTargetOf } from "./context";
import { settleActivation } from "./deferred-update";
import { type FirmwareVersions, readInventory } from "./firmware-inventory";
import type { DpuHostInputs, DpuHostOutputs, OperatingModeOutput } from "./inputs.schema";
import { installUnfinished } from "./install-state";
import { NIC_MODE_UNOBSERVABLE, observeMode } from "./mode-change";
import { type DpuOsFacts, imageShaOf, probeDpuOs } from "./ssh-probe";

/** What read() returns: nothing when the system is gone. */
export interface Observation {
  readonly outputs: DpuHostOutputs;
  /** Declared inputs rewritten with observed values, so drift shows in the next preview. */
  readonly inputs: DpuHostInputs;
}

/**
 * Observes a provisioned DPU cheaply: one GET of the system (Basic auth in `auto` mode, no login/logout), plus
 * the virtual-media slot only when the media is meant to stay inserted; then os-release over SSH when
 * `ready.ssh` is set and the DPU is on. Paths come from the outputs, so nothing is rediscovered.
 */
export async function observe(prior: DpuHostOutputs, log: Logger): Promise<Observation | undefined> {
  const inputs: DpuHostInputs = {
    bmc: prior.bmc,
    image: prior.image,
    ready: prior.ready,
    power: prior.power,
    ejectAfterInstall: prior.ejectAfterInstall,
    ...(prior.mode ? { mode: prior.mode } : {}),
    ...(prior.host ? { host: prior.host } : {}),
  };
  const client = bmcClient(inputs);
  let facts: DpuOsFacts | undefined;
  let slotImage: string | undefined;
  let slotInserted = false;
  let hostKeyDrift: string | undefined;
  try {
    const sys = await readSystem(client, prior.discovery.systemPath);
    if (!sys) return undefined;
    const slotPath = prior.discovery.slotPath;
    if (prior.discovery.method === "virtualMedia" && !prior.ejectAfterInstall && slotPath) {
      const st = await readSlot(client, slotPath);
      slotInserted = st.inserted;
      slotImage = st.image;
    }
    // The firmware inventory (issue 17 item 4) in one expanded GET, only where the last install found one and
    // no slot read is needed: ≤ 2 requests per read. Not expanded, or not readable now: kept from state.
    let firmware: FirmwareVersions | undefined;
    let inventory: Awaited<ReturnType<typeof readInventory>>;
    const inventoryPath = prior.discovery.firmwareInventoryPath;
    if (
      inventoryPath &&
      !(prior.discovery.method === "virtualMedia" && !prior.ejectAfterInstall && slotPath)
    ) {
      inventory = await readInventory(client, inventoryPath, { followLinks: false }).catch((err: unknown) => {
        log.info(
          `firmware inventory not read (${err instanceof Error ? err.message : String(err)}); kept from state`,
        );
        return undefined;
      });
      firmware = inventory?.versions;
    }
    // The mode of operation, only where declared (issue 17 item 3): NIC mode runs no DPU OS, so nothing waits on
    // SSH there; an empty Mode cannot be read back and is not taken for a mode.
    const mode = prior.mode ? await observeMode(client, prior.discovery.systemPath) : undefined;
    const inNicMode = mode?.reported === "nic" || (mode?.reported === undefined && prior.mode === "nic");
    if (inNicMode) log.info(`NIC mode: not observable: ${NIC_MODE_UNOBSERVABLE.join("; ")}`);
    if (sys.powerState === "On" && inputs.ready.ssh && !inNicMode) {
      const target = sshTargetOf(inputs, prior.hostKeyFingerprint);
      if (target) {
        facts = await probeDpuOs(target, false).catch((err: unknown) => {
          if ((err as { code?: unknown }).code === "DPU_SSH_HOST_KEY_MISMATCH") {
            // Never trust the new key: report drift (the DPU was reprovisioned behind our back, or impersonated).
            hostKeyDrift = String((err as { actual?: unknown }).actual ?? "unknown");
            log.info(
              `SSH host key changed (pinned ${prior.hostKeyFingerprint ?? "?"}, now ${hostKeyDrift}); reporting drift`,
            );
            return undefined;
          }
          log.info(
            `SSH probe failed during read (${err instanceof Error ? err.message : String(err)}); OS facts kept from state`,
          );
          return undefined;
        });
      }
    }
    const observedInputs: DpuHostInputs = {
      ...inputs,
      power: sys.powerState,
      ...(mode?.reported ? { mode: mode.reported } : {}),
    };
    let image = inputs.image;
    const runningSha = facts ? imageShaOf(facts.osRelease) : undefined;
    const installedSha = prior.installedImage?.sha256;
    if (runningSha && installedSha && runningSha !== installedSha) {
      // Another image booted: show it as a different image so the next up reprovisions.
      image = {
        ...image,
        url: `(drift: the DPU runs IMAGE_ID=${facts?.osRelease.IMAGE_ID ?? "?"} sha256 ${runningSha})`,
      };
    }
    if (hostKeyDrift && image === inputs.image) {
      image = {
        ...image,
        url: `(drift: SSH host key changed to ${hostKeyDrift}; another image was likely installed)`,
      };
    }
    let eject = inputs.ejectAfterInstall;
    if (prior.discovery.method === "virtualMedia" && !inputs.ejectAfterInstall && slotPath) {
      if (!slotInserted) eject = true;
      else if (slotImage && !sameImage(slotImage, inputs.image.url) && image === inputs.image) {
        image = { ...image, url: `(drift: virtual media holds ${publicUrl(slotImage)})` };
      }
    }
    const unfinished = installUnfinished(prior, inputs);
    if (unfinished && image === inputs.image && !inputs.image.url.startsWith("(")) {
      // A partial resource: show the image as not (yet) installed, so the next `pulumi up` resumes the install
      // even after a refresh cleared the engine's init errors.
      image = {
        ...image,
        url: `(incomplete: the install of ${publicUrl(inputs.image.url)} did not finish: ${unfinished})`,
      };
    }
    const rewritten: DpuHostInputs = { ...observedInputs, image, ejectAfterInstall: eject };
    const outputs: DpuHostOutputs = {
      ...prior,
      ...rewritten,
      powerState: sys.powerState,
      ...(sys.bootProgress ? { bootProgress: sys.bootProgress } : {}),
      ...(facts ? { osRelease: facts.osRelease, macs: facts.macs } : {}),
      ...(firmware ? { firmware } : {}),
      ...(mode ? { operatingMode: modeOutput(mode, prior, inNicMode) } : {}),
    };
    // A staged update (image.activate nextReset): still pending until the BMC shows the reset activated it.
    const staged = prior.pendingActivation;
    if (staged) return settleActivation(outputs, rewritten, staged, sys, inventory);
    return { outputs, inputs: rewritten };
  } finally {
    await client.close();
  }
}

/** Output `operatingMode` after a read: a pending host power cycle stays until the BMC reports the declared mode. */
function modeOutput(
  mode: OperatingModeOutput,
  prior: DpuHostOutputs,
  inNicMode: boolean,
): OperatingModeOutput {
  const pending = prior.operatingMode?.hostPowerCyclePending;
  const pendingMode = prior.operatingMode?.pendingMode;
  return {
    ...(mode.reported ? { reported: mode.reported } : {}),
    ...(mode.unreadable ? { unreadable: mode.unreadable } : {}),
    ...(pending && pendingMode && mode.reported !== pendingMode
      ? { hostPowerCyclePending: pending, pendingMode }
      : {}),
    ...(inNicMode ? { unobservable: NIC_MODE_UNOBSERVABLE } : {}),
  };
}
