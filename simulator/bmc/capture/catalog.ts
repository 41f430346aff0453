import type { CaptureBmcProfileName, QuirkBmcProfileName } from "../../contracts";
import { isQuirkProfile, type QuirkSwitches } from "./quirks";

/** How one capture becomes a profile: where its tree is, and the few behaviours a tree cannot show. */
export interface CaptureProfileSpec {
  /** Directory name under the mockups directory. */
  readonly capture: string;
  /** One line: what the profile reproduces. */
  readonly note: string;
  /** BootProgress moves through `LastState: OEM` + BlueField `OemLastState` values (where captured at all). */
  readonly oemBootProgress: boolean;
  /** Successful actions answer 200 with a Success message (bmcweb) rather than 204. */
  readonly actionStatus: 200 | 204;
  /** SimpleUpdate installs a BFB at once and reboots (BlueField); otherwise an OS image is staged until reset. */
  readonly updateInstallsNow: boolean;
  /** Quirk profiles: behaviour switches the handlers check. */
  readonly quirks?: QuirkSwitches;
}

/** The capture-backed profiles. */
export const CAPTURE_PROFILES: Readonly<Record<CaptureBmcProfileName, CaptureProfileSpec>> = {
  "capture-rackmount1": {
    capture: "public-rackmount1",
    note: "DMTF rack-mount server: media under the system (PATCH-only slots), BootProgress, SimpleUpdate ActionInfo",
    oemBootProgress: false,
    actionStatus: 204,
    updateInstallsNow: false,
  },
  "capture-smartnic": {
    capture: "public-smartnic",
    note: "DMTF host with a SmartNIC SoC system: media under the manager, no BootProgress, no UpdateService",
    oemBootProgress: false,
    actionStatus: 204,
    updateInstallsNow: false,
  },
  "capture-tower": {
    capture: "public-tower",
    note: "DMTF tower server: media under the manager, no BootProgress, SimpleUpdate ActionInfo, no $metadata",
    oemBootProgress: false,
    actionStatus: 204,
    updateInstallsNow: false,
  },
  "capture-bladed": {
    capture: "public-bladed",
    note: "DMTF blade enclosure: four systems and five managers, no virtual media, no UpdateService",
    oemBootProgress: false,
    actionStatus: 204,
    updateInstallsNow: false,
  },
  "capture-bluefield": {
    capture: "nvidia-bluefield-bmc",
    note: "NVIDIA BlueField BMC (bmcweb): Settings object, OEM BootProgress, SCP-only SimpleUpdate, no virtual media",
    oemBootProgress: true,
    actionStatus: 200,
    updateInstallsNow: true,
  },
};

/** True for a profile served from a captured tree: a capture-backed profile or a quirk profile built on one. */
export function isCaptureProfile(name: string): name is CaptureBmcProfileName | QuirkBmcProfileName {
  return Object.hasOwn(CAPTURE_PROFILES, name) || isQuirkProfile(name);
}
