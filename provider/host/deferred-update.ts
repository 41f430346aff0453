import { publicUrl } from "../log";
import type { BmcCapabilities, BootMethod, SystemState } from "../redfish";
import { osRunning } from "../redfish";
import type { FirmwareVersions } from "./firmware-inventory";
import type { DpuHostInputs, DpuHostOutputs, PendingActivation } from "./inputs.schema";

/**
 * Offline and deferred updates (issue 17 item 5). NVIDIA's BlueField BMC documents two flows ("Deploying Software
 * Using BFB", BlueField BMC software v25.10: "Offline Update Flow" and "Deferred Update Flow"): the offline flow
 * takes the DPU out of service while the BMC installs; the deferred one (BlueField-3) stages the update while the
 * DPU keeps running and activates it at a reset. In Redfish the choice is the action's `@Redfish.OperationApplyTime`
 * (DSP0266 "Operation apply time"; Settings `OperationApplyTime` `Immediate` / `OnReset`), allowed only where the
 * action advertises it in `@Redfish.OperationApplyTimeSupport`.
 */

/** Whether these inputs stage the install until a reset (`image.applyTime: OnReset`). */
export function defersUpdate(inputs: Pick<DpuHostInputs, "image">): boolean {
  return inputs.image.applyTime === "OnReset";
}

/** Whether DpuHost leaves the activating reset to the operator (`activate: nextReset`, the default of OnReset). */
export function leavesResetToOperator(inputs: Pick<DpuHostInputs, "image">): boolean {
  return defersUpdate(inputs) && inputs.image.activate !== "now";
}

/**
 * Why `image.applyTime: OnReset` cannot be honoured with `method` on this BMC, or undefined when it can (or
 * nothing is deferred). Checked from discovery, before any request that changes state.
 */
export function applyTimeRefusal(
  inputs: Pick<DpuHostInputs, "image">,
  caps: Pick<BmcCapabilities, "update">,
  method: BootMethod,
): string | undefined {
  if (!defersUpdate(inputs)) return undefined;
  if (method !== "simpleUpdate")
    return `image.applyTime OnReset stages a SimpleUpdate install, and the install method here is ${method}`;
  const advertised = caps.update.applyTimes;
  if (advertised?.includes("OnReset")) return undefined;
  const what = advertised
    ? `advertises @Redfish.OperationApplyTimeSupport ${advertised.join(", ") || "(no values)"} only`
    : "advertises no @Redfish.OperationApplyTimeSupport (its updates apply Immediately)";
  const push = caps.update.httpPushApplyTime
    ? `; its HttpPushUri applies at ${caps.update.httpPushApplyTime}, a push DpuHost does not use`
    : "";
  return `image.applyTime OnReset cannot be honoured: this BMC's SimpleUpdate ${what}${push}. Remove image.applyTime to install Immediately (the DPU goes out of service during the install), or use BMC firmware that offers deferred updates`;
}

/** One line for preview (check()): which of the two flows `up` will run, and who resets. */
export function applyTimeNote(inputs: Pick<DpuHostInputs, "image">): string | undefined {
  if (!defersUpdate(inputs)) return undefined;
  return leavesResetToOperator(inputs)
    ? "image.applyTime OnReset, activate nextReset: up stages the update on the BMC and does not reset the DPU; it runs the old image until the next reset (output pendingActivation shows it until then)"
    : "image.applyTime OnReset, activate now: up stages the update on the BMC, then resets the DPU itself to activate it and waits for the new OS";
}

/** The record of an update staged for the next reset. */
export function pendingActivationOf(
  inputs: Pick<DpuHostInputs, "image">,
  sha256: string | undefined,
  sys: SystemState | undefined,
): PendingActivation {
  return {
    url: publicUrl(inputs.image.url),
    ...(sha256 ? { sha256 } : {}),
    stagedAt: new Date().toISOString(),
    ...(sys?.bootProgressTime ? { bootProgressTimeBefore: sys.bootProgressTime } : {}),
  };
}

/** The pending record with what the BMC's inventory shows: the DPU_OS version still active, the staged members. */
export function withInventory(
  pending: PendingActivation,
  versions: FirmwareVersions | undefined,
  staged: Readonly<Record<string, string>> | undefined,
): PendingActivation {
  return {
    ...pending,
    ...(pending.activeVersion === undefined && versions?.dpuOs !== undefined
      ? { activeVersion: versions.dpuOs }
      : {}),
    ...(staged && Object.keys(staged).length > 0 ? { staged } : {}),
  };
}

/** What became of a staged update, from what the BMC shows now. */
export type ActivationState = "pending" | "activated" | "superseded";

/**
 * What became of a staged update: `pending` while the inventory lists something staged, or nothing shows a
 * reset since the staging; `activated` once the DPU booted since the staging (BootProgress `LastStateTime`
 * moved and the OS runs) or the DPU_OS version moved, to the staged version where the BMC listed one;
 * `superseded` when DPU_OS moved to a version other than the one staged (another image was installed).
 */
export function activationState(
  pending: PendingActivation,
  sys: SystemState,
  inventory: { versions: FirmwareVersions; staged: Readonly<Record<string, string>> } | undefined,
): ActivationState {
  const booted =
    sys.bootProgressTime !== undefined &&
    sys.bootProgressTime !== pending.bootProgressTimeBefore &&
    osRunning(sys.bootProgress);
  if (!inventory) return booted ? "activated" : "pending";
  if (Object.keys(inventory.staged).length > 0) return "pending";
  const now = inventory.versions.dpuOs;
  const moved = pending.activeVersion !== undefined && now !== undefined && now !== pending.activeVersion;
  const expected = Object.values(pending.staged ?? {});
  if (moved && expected.length > 0 && now !== undefined && !expected.includes(now)) return "superseded";
  return booted || moved ? "activated" : "pending";
}

/**
 * read() of a resource with a staged update: still pending (with the inventory's staged members), recorded as
 * installed once activated, or shown as drift when another image replaced it (the next `up` installs again).
 */
export function settleActivation(
  outputs: DpuHostOutputs,
  inputs: DpuHostInputs,
  pending: PendingActivation,
  sys: SystemState,
  inventory: { versions: FirmwareVersions; staged: Readonly<Record<string, string>> } | undefined,
): { outputs: DpuHostOutputs; inputs: DpuHostInputs } {
  const state = activationState(pending, sys, inventory);
  if (state === "pending")
    return {
      outputs: { ...outputs, pendingActivation: withInventory(pending, undefined, inventory?.staged) },
      inputs,
    };
  const { pendingActivation: _done, ...rest } = outputs;
  if (state === "superseded") {
    const image = {
      ...inputs.image,
      url: `(drift: the BMC reports DPU_OS ${inventory?.versions.dpuOs ?? "?"}, not the staged ${Object.values(pending.staged ?? {}).join(", ")})`,
    };
    return { outputs: { ...rest, image }, inputs: { ...inputs, image } };
  }
  return {
    outputs: {
      ...rest,
      installedImage: {
        url: pending.url,
        ...(pending.sha256 ? { sha256: pending.sha256 } : {}),
        method: "simpleUpdate",
        installedAt: new Date().toISOString(),
        observedBy: "bootProgress",
      },
    },
    inputs,
  };
}

/** The stage of a BFB install that stopped making progress (NVIDIA "Deploying Software Using BFB" stages). */
export type BfbStage = "transfer" | "install" | "boot";

/**
 * Where a SimpleUpdate (BFB) install stalled, from what the BMC shows: the BMC's task never finished (it tracks
 * the image transfer, "Tracking Image Transfer Status and Progress"); the task finished but the DPU reports a
 * firmware update in progress, or still runs the OS it ran before (BootProgress and its `LastStateTime`
 * unmoved: the installation never rebooted it); or a boot is stuck before the OS, or the OS it reached never
 * answered as the new image (the boot).
 */
export function bfbStallStage(
  taskDone: boolean,
  before: string | undefined,
  now: SystemState | undefined,
): BfbStage {
  if (!taskDone) return "transfer";
  if (now?.bootProgress !== undefined && /FirmwareUpdate/i.test(now.bootProgress)) return "install";
  // Still in the OS it ran before the update, BootProgress unmoved: the installation never rebooted it.
  const sameOs = now !== undefined && osRunning(now.bootProgress) && now.bootProgressTime === before;
  return sameOs && before !== undefined ? "install" : "boot";
}

/** The words of {@link bfbStallStage}'s answer, for the error. */
export function bfbStallWords(stage: BfbStage): string {
  return stage === "transfer"
    ? "the transfer stage: the BMC's SimpleUpdate task never finished fetching the image"
    : stage === "install"
      ? "the install stage: the BMC's task finished, but the DPU never started booting the new image"
      : "the boot stage: the DPU started a new boot that never brought the OS up";
}
