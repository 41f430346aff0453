import { DpuError } from "../errors/dpu-error";
import { isRedfishHttpError } from "../errors/redfish-http-error";
import type { RedfishClient } from "../redfish";
import type { Json } from "../redfish/messages";

/**
 * BlueField modes of operation over Redfish (NVIDIA BlueField BMC Software, "BlueField Modes of Operation
 * Configuration", "Getting Mode of Operation" and "Setting DPU Mode"/"Setting NIC Mode", BlueField-3):
 * `GET <system>/Oem/Nvidia` shows the current setting in `Mode` (`DpuMode`, `NicMode`), and the action
 * `#Mode.Set` (`{"Mode": …}`) sets the next one. The shared capture of a real BlueField BMC
 * (`nvidia-bluefield-bmc`) answers `"Mode": ""`: an empty or missing Mode is "cannot be read back", never a mode.
 */

/** A mode of operation as DpuHost declares it. */
export type DeclaredMode = "dpu" | "nic";

const TO_REDFISH: Readonly<Record<DeclaredMode, string>> = { dpu: "DpuMode", nic: "NicMode" };

/** What the BMC shows about the mode. */
export interface ModeReading {
  /** `<system>/Oem/Nvidia`. */
  readonly path: string;
  /** Target of `#Mode.Set`, when advertised. */
  readonly setTarget?: string;
  /** Its `Mode` AllowableValues (empty: not listed). */
  readonly allowed: readonly string[];
  /** The mode the BMC reports; undefined when `Mode` is empty, missing or unknown. */
  readonly reported?: DeclaredMode;
  /** Why it cannot be read back (when `reported` is undefined). */
  readonly unreadable?: string;
}

function isRecord(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The `Oem/Nvidia` link of a ComputerSystem body, if any. */
export function nvidiaOemPath(system: Json): string | undefined {
  const oem = isRecord(system.Oem) ? system.Oem : undefined;
  const nv = oem && isRecord(oem.Nvidia) ? oem.Nvidia : undefined;
  const id = nv?.["@odata.id"];
  return typeof id === "string" ? id : undefined;
}

/** Parses the `Oem/Nvidia` resource of a BlueField system. */
export function parseModeResource(path: string, body: Json): ModeReading {
  const actions = isRecord(body.Actions) ? body.Actions : {};
  const set = isRecord(actions["#Mode.Set"]) ? actions["#Mode.Set"] : undefined;
  const params = Array.isArray(set?.Parameters) ? set.Parameters : [];
  const modeParam = params.find((p): p is Json => isRecord(p) && p.Name === "Mode");
  const inline = set?.["Mode@Redfish.AllowableValues"];
  const allowedRaw = modeParam?.AllowableValues ?? inline;
  const allowed = Array.isArray(allowedRaw)
    ? allowedRaw.filter((v): v is string => typeof v === "string")
    : [];
  const raw = body.Mode;
  const reported = raw === "DpuMode" ? "dpu" : raw === "NicMode" ? "nic" : undefined;
  return {
    path,
    ...(typeof set?.target === "string" ? { setTarget: set.target } : {}),
    allowed,
    ...(reported ? { reported } : {}),
    ...(reported
      ? {}
      : {
          unreadable:
            raw === undefined || raw === ""
              ? `the BMC reports ${raw === undefined ? "no" : "an empty"} Mode at ${path}: the mode of operation cannot be read back`
              : `the BMC reports Mode ${JSON.stringify(raw)} at ${path}, which is neither DpuMode nor NicMode`,
        }),
  };
}

/**
 * Reads the mode of the system at `systemPath` (its `Oem.Nvidia` link, then that resource), or undefined when
 * the system has no `Oem/Nvidia` resource (not a BlueField BMC).
 */
export async function readMode(client: RedfishClient, systemPath: string): Promise<ModeReading | undefined> {
  const sys = (await client.get(systemPath, { action: "read system" })).body;
  const path = nvidiaOemPath(sys);
  if (!path) return undefined;
  try {
    const body = (await client.get(path, { action: "read the mode of operation" })).body;
    return parseModeResource(path, body);
  } catch (err) {
    if (isRedfishHttpError(err) && err.status === 404) return undefined;
    throw err;
  }
}

/** Why the BMC cannot set `want` (no Mode.Set, or the value not allowed), or undefined when it can. */
export function modeSetRefusal(reading: ModeReading | undefined, want: DeclaredMode): string | undefined {
  if (!reading) return "the BMC has no Oem/Nvidia resource on the system (not a BlueField BMC)";
  if (!reading.setTarget) return `${reading.path} advertises no #Mode.Set action`;
  const value = TO_REDFISH[want];
  if (reading.allowed.length > 0 && !reading.allowed.includes(value))
    return `#Mode.Set allows ${reading.allowed.join(", ")}, not ${value}`;
  return undefined;
}

/** POSTs `#Mode.Set` (the first step of NVIDIA's sequence). */
export async function setMode(
  client: RedfishClient,
  reading: ModeReading,
  want: DeclaredMode,
): Promise<void> {
  const why = modeSetRefusal(reading, want);
  if (why || !reading.setTarget)
    throw new DpuError(
      "DPU_REDFISH_UNSUPPORTED",
      `set mode ${want} on BMC ${client.origin}: ${why ?? "no target"}`,
    );
  await client.post(
    reading.setTarget,
    { Mode: TO_REDFISH[want] },
    { action: `set the mode of operation to ${TO_REDFISH[want]}` },
  );
}
