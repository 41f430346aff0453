import { publicUrl } from "../log";
import { osRunning, type SystemState, sameImage } from "../redfish";
import type { DpuHostInputs, DpuHostOutputs, InstallPending } from "./inputs.schema";

/**
 * Why the state does not record a finished install of the image `inputs` ask for, or undefined when it does.
 *
 * A finished install records `installedImage` (the requested URL, and its sha256 when one is declared) and, when
 * `ready.ssh` is set, the host key seen after the install. A partial resource (create or reprovision failed
 * after the BMC was touched: media inserted, boot override set, DPU rebooting) lacks one of them.
 */
export function installUnfinished(
  state: Pick<
    DpuHostOutputs,
    "installedImage" | "hostKeyFingerprint" | "installPending" | "pendingActivation"
  >,
  inputs: Pick<DpuHostInputs, "image" | "ready">,
): string | undefined {
  const pending = state.installPending;
  if (pending) return `the install of ${publicUrl(pending.url)} stopped while ${pending.stage}`;
  // Staged for the next reset, as declared (activate: nextReset): finished as far as DpuHost goes; output
  // pendingActivation says it is not running yet.
  const staged = state.pendingActivation;
  if (
    staged &&
    sameImage(publicUrl(staged.url), publicUrl(inputs.image.url)) &&
    inputs.image.activate !== "now"
  )
    return undefined;
  const installed = state.installedImage;
  if (!installed) return "no installed image is recorded";
  if (!sameImage(publicUrl(installed.url), publicUrl(inputs.image.url))) {
    return `the recorded image is ${publicUrl(installed.url)}, not ${publicUrl(inputs.image.url)}`;
  }
  if (inputs.image.sha256 && installed.sha256 && installed.sha256 !== inputs.image.sha256) {
    return `the recorded image has sha256 ${installed.sha256}, not ${inputs.image.sha256}`;
  }
  if (inputs.ready.ssh && !state.hostKeyFingerprint) return "no SSH host key was recorded after the install";
  return undefined;
}

/**
 * Whether a resumed install keeps the boot the last run started (waits on it) instead of installing again: only a
 * boot that reached the OS (`sys`, read after the boot settled), and not the one the last run already saw reach
 * it and fail (`pending.failedBootTime`). A boot stuck before the OS is a failed boot: waiting on it again would
 * only time out again, while the BMC answers and a new install can bring the DPU up.
 */
export function keepsStartedBoot(
  pending: Pick<InstallPending, "failedBootTime">,
  sys: Pick<SystemState, "bootProgress" | "bootProgressTime">,
): boolean {
  if (sys.bootProgress === undefined || !osRunning(sys.bootProgress)) return false;
  return pending.failedBootTime === undefined || sys.bootProgressTime !== pending.failedBootTime;
}

/** What the next `pulumi up` does after an install of `method` stopped while the DPU booted (for its error). */
export function redoWords(method: InstallPending["method"]): string {
  const how =
    method === "simpleUpdate"
      ? "pushes the BFB again (a new SimpleUpdate)"
      : method === "virtualMedia"
        ? "installs again (the image verified or inserted again in virtual media, the boot-once override set, the DPU reset)"
        : "installs again (the UEFI HTTP boot-once override set again, the DPU reset)";
  return `the next \`pulumi up\` ${how} instead of waiting on this boot`;
}
