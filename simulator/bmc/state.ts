import type { BmcFaultSettings, BootImage, InstallExtras } from "../contracts";
import type { RedfishMessage } from "./errors";
import type { ModeState } from "./nvidia-mode";

/** Power states the BMC reports. */
export type PowerState = "On" | "Off" | "PoweringOn" | "PoweringOff";

/** Boot override as `Boot` shows it. */
export interface BootOverride {
  enabled: string;
  target: string;
  mode: string;
  httpBootUri?: string;
}

/** The one CD slot. */
export interface MediaState {
  inserted: boolean;
  image?: string;
  imageName?: string;
  transferMethod?: string;
  transferProtocol?: string;
  writeProtected: boolean;
  /** IPU: the image the IMC already downloaded (no fetch at boot). */
  downloaded?: BootImage;
}

/** A Redfish task. */
export interface TaskRecord {
  readonly id: string;
  readonly name: string;
  state: "New" | "Running" | "Completed" | "Exception" | "Cancelled";
  status: "OK" | "Warning" | "Critical";
  percent: number;
  readonly startTime: string;
  endTime?: string;
  messages: RedfishMessage[];
  /** Final response the task monitor returns once the task has ended. */
  result?: { status: number; body?: unknown };
  readonly targetUri: string;
}

/** A login session. */
export interface SessionRecord {
  readonly id: string;
  readonly token: string;
  readonly user: string;
  readonly readOnly: boolean;
  readonly created: string;
  lastUsed: number;
}

/** Mutable state of one BMC; handlers and the boot controller share it (single-threaded, no locks). */
export interface BmcState {
  power: PowerState;
  bootProgress: { lastState: string; oemLastState?: string; time: string };
  override: BootOverride;
  /** BlueField: pending boot settings (the Settings object), applied at the next reset. */
  pending?: Partial<BootOverride>;
  media: MediaState;
  /** Non-BlueField SimpleUpdate: an OS image fetched and verified, installed at the next reset. */
  staged?: BootImage;
  /** What the staged image carried besides the OS (a BFB's appended bf.cfg). */
  stagedExtras?: InstallExtras;
  /**
   * The BFB header (name, version) of the staged image, where it is one: listed in the firmware inventory as
   * staged until the reset that installs it (then it becomes {@link installedBundle}).
   */
  stagedBundle?: { readonly name: string; readonly version: string };
  /** The BFB this BMC installed last (its header's name and version); unset: the inventory as captured. */
  installedBundle?: { readonly name: string; readonly version: string };
  /**
   * Media a client inserted in slots other than the boot slot (slot URI → image URL): the DPU sees them at
   * every boot (a NoCloud `cidata` volume in a second slot). Media a capture shows inserted are not fetched.
   */
  extraMedia: Record<string, string>;
  lastBootError?: string;
  /** Why a medium of another slot was absent at the last boot (fetch failed). */
  lastMediaError?: string;
  lastResetTime: string;
  faults: BmcFaultSettings;
  requests: Record<string, number>;
  /** Per resource path: how often another (simulated) client modified it; mixed into its ETag. */
  etagGenerations: Record<string, number>;
  assetTag: string;
  updateInProgress: boolean;
  /** BlueField-like profiles: the mode of operation (Oem/Nvidia Mode.Set); unset elsewhere. */
  mode?: ModeState;
}

/** No faults. */
export function noFaults(): BmcFaultSettings {
  return {
    latencyMs: 0,
    fail503Count: 0,
    tcpResetCount: 0,
    taskDelayMs: 0,
    taskFailCount: 0,
    bootFailCount: 0,
    etagConflictCount: 0,
    insertNoAttachCount: 0,
    etagStyle: 0,
    rejectIfMatchOnPost: 0,
    sessionLimitCount: 0,
    asyncActionCount: 0,
    taskMonitorGoneCount: 0,
  };
}

/** Redfish date-time of now. */
export function nowIso(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, "+00:00");
}
