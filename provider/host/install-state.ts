import { publicUrl } from "../log";
import { sameImage } from "../redfish";
import type { DpuHostInputs, DpuHostOutputs } from "./inputs.schema";

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
