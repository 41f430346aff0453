import { actionBody, actionOk, enumParam } from "./actions";
import type { BmcContext } from "./context";
import type { Router } from "./router";
import type { BmcState } from "./state";

/**
 * BlueField modes of operation as a BlueField BMC serves them (NVIDIA BlueField BMC Software, "BlueField Modes of
 * Operation Configuration": `GET Systems/Bluefield/Oem/Nvidia` shows `Mode`; `POST …/Actions/Mode.Set` with
 * `{"Mode": "DpuMode" | "NicMode"}` on BlueField-3). The mode asked for is only stored: it takes effect after the
 * documented Arm reboots and the power cycle from the host ("Setting DPU Mode"/"Setting NIC Mode", step 3), which
 * the simulator models as the host server powering on (see {@link HostPowerLink}).
 */
export const NVIDIA_MODES = ["NicMode", "DpuMode"] as const;

/** A BlueField mode of operation. */
export type NvidiaMode = (typeof NVIDIA_MODES)[number];

/** The mode state of a BlueField-like BMC. */
export interface ModeState {
  /** The mode the DPU runs in (NIC mode: the Arm cores run no OS; BootProgress stops at UEFI). */
  effective: NvidiaMode;
  /** Set by Mode.Set; becomes effective at the next host power cycle. */
  pending?: NvidiaMode;
  /** Whether `Mode` shows the effective mode; false: `""`, as the shared nvidia-bluefield-bmc capture shows it. */
  readonly reported: boolean;
}

/**
 * The `Oem/Nvidia` resource of the system with the state's mode: a captured one as captured but for `Mode`
 * (which stays as captured while the profile does not report it), else built in the capture's shape.
 */
export function nvidiaOemBody(
  systemPath: string,
  s: ModeState,
  captured?: Record<string, unknown>,
): Record<string, unknown> {
  if (captured) return s.reported ? { ...captured, Mode: s.effective } : captured;
  return {
    "@odata.id": `${systemPath}/Oem/Nvidia`,
    Actions: {
      "#Mode.Set": {
        Parameters: [
          { AllowableValues: [...NVIDIA_MODES], DataType: "String", Name: "Mode", Required: true },
        ],
        target: `${systemPath}/Oem/Nvidia/Actions/Mode.Set`,
      },
    },
    Mode: s.reported ? s.effective : "",
  };
}

/** Registers `GET <system>/Oem/Nvidia` and `POST <system>/Oem/Nvidia/Actions/Mode.Set` on `r`. */
export function registerNvidiaMode(
  r: Router,
  c: BmcContext,
  systemPath: string,
  status: 200 | 204,
  captured?: Record<string, unknown>,
): void {
  const mode = (): ModeState => {
    if (!c.state.mode) throw new Error("registerNvidiaMode: the BMC state has no mode");
    return c.state.mode;
  };
  r.add(`${systemPath}/Oem/Nvidia`, {
    GET: () => ({ status: 200, body: nvidiaOemBody(systemPath, mode(), captured) }),
  });
  r.add(`${systemPath}/Oem/Nvidia/Actions/Mode.Set`, {
    POST: ({ body }) => {
      const action = "Mode.Set";
      const rec = actionBody(body, action, { required: ["Mode"] });
      mode().pending = enumParam(rec, "Mode", action, NVIDIA_MODES) as NvidiaMode;
      return actionOk(status);
    },
  });
}

/** At a power cycle of the host (PERST toggled): the pending mode becomes the effective one. */
export function applyPendingMode(s: BmcState): void {
  if (s.mode?.pending === undefined) return;
  s.mode.effective = s.mode.pending;
  s.mode.pending = undefined;
}

/**
 * The PCIe slot linking a simulated host server to the DPU it carries: the host server's BMC calls
 * {@link hostPoweredOn} at every power-on (from Off, or through a restart or power cycle), and each DPU BMC
 * following the link sees its host's power cycle (NVIDIA "Reset Control": a hard reset of the BlueField follows
 * the host's PERST/All_STANDBY; "BlueField Modes of Operation Configuration", step 3: the mode switch completes
 * with the host's power cycle).
 */
export class HostPowerLink {
  private readonly listeners = new Set<() => void>();
  /** Host power-on edges seen so far. */
  powerOns = 0;

  /** The host server powered on. */
  hostPoweredOn(): void {
    this.powerOns++;
    for (const l of this.listeners) l();
  }

  /** Calls `fn` at every host power-on; returns the unsubscribe function. */
  onHostPowerOn(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
}
