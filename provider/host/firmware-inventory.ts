import { DpuError } from "../errors";
import type { RedfishClient } from "../redfish/client";
import { expandedMembers, isRecord, type Json } from "./expanded-members";

/**
 * The firmware components DpuHost reports, as the BMC's `UpdateService/FirmwareInventory` names them. The member
 * ids are NVIDIA's (BlueField BMC software, "System Inventory"; the nvidia-bluefield-bmc capture): `DPU_OS`,
 * `DPU_ATF`, `DPU_UEFI`, `DPU_NIC`, `BMC_Firmware`; `BMC` is the BMC item of the other lab BMCs. A component
 * the BMC does not list stays absent: nothing is guessed.
 */
export const FIRMWARE_COMPONENTS = {
  dpuOs: ["DPU_OS"],
  atf: ["DPU_ATF"],
  uefi: ["DPU_UEFI"],
  nic: ["DPU_NIC"],
  bmc: ["BMC_Firmware", "BMC"],
} as const satisfies Record<string, readonly string[]>;

/** A component DpuHost reports. */
export type FirmwareComponent = keyof typeof FIRMWARE_COMPONENTS;

/** Versions by component, as the BMC reports them (absent: the BMC lists no such item). */
export type FirmwareVersions = Partial<Record<FirmwareComponent, string>>;

function lastSegment(path: string): string {
  return path.replace(/\/+$/, "").split("/").pop() ?? path;
}

/** The component an inventory member id names, if any. */
function componentOf(id: string): FirmwareComponent | undefined {
  for (const [c, ids] of Object.entries(FIRMWARE_COMPONENTS) as [FirmwareComponent, readonly string[]][]) {
    if (ids.includes(id)) return c;
  }
  return undefined;
}

/** Versions from inventory member bodies (`Id` or the path's last segment, and `Version` as reported). */
export function versionsOf(members: readonly Json[]): FirmwareVersions {
  const out: FirmwareVersions = {};
  for (const m of members) {
    const id = typeof m.Id === "string" ? m.Id : lastSegment(String(m["@odata.id"] ?? ""));
    const c = componentOf(id);
    if (isStagedOnly(m)) continue;
    if (c && typeof m.Version === "string" && out[c] === undefined) out[c] = m.Version;
  }
  return out;
}

/**
 * An image the BMC holds ready but does not run: `Staged: true` and not `Active` (SoftwareInventory v1_12_0,
 * "This image is ready to be activated"). Its version is not the component's running version.
 */
function isStagedOnly(m: Json): boolean {
  return m.Staged === true && m.Active !== true;
}

/** Inventory members the BMC lists as staged, not active: `Id` → `Version` (an update waiting for a reset). */
export function stagedOf(members: readonly Json[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of members) {
    const id = typeof m.Id === "string" ? m.Id : lastSegment(String(m["@odata.id"] ?? ""));
    if (isStagedOnly(m)) out[id] = typeof m.Version === "string" ? m.Version : "";
  }
  return out;
}

/** The inventory's running versions and its staged members, read as {@link readFirmwareInventory} reads it. */
export async function readInventory(
  client: RedfishClient,
  inventoryPath: string,
  opts: { followLinks: boolean },
): Promise<{ versions: FirmwareVersions; staged: Record<string, string> } | undefined> {
  const follow = (path: string): boolean => opts.followLinks && componentOf(lastSegment(path)) !== undefined;
  const read = await expandedMembers(client, inventoryPath, "read firmware inventory", follow);
  if (!read || (!read.expanded && !opts.followLinks)) return undefined;
  return { versions: versionsOf(read.bodies), staged: stagedOf(read.bodies) };
}

/**
 * Reads the inventory in one request (`$expand=.($levels=1)`, DSP0266 §7.3). Undefined when the BMC answered
 * with links only (no expansion): the caller keeps what it knew, or (`followLinks`) reads the members it maps
 * one by one.
 */
export async function readFirmwareInventory(
  client: RedfishClient,
  inventoryPath: string,
  opts: { followLinks: boolean },
): Promise<FirmwareVersions | undefined> {
  return (await readInventory(client, inventoryPath, opts))?.versions;
}

/** The FirmwareInventory collection the UpdateService links (DSP0266's `/redfish/v1/UpdateService`), if any. */
export async function findFirmwareInventory(client: RedfishClient): Promise<string | undefined> {
  const res = await client
    .get("/redfish/v1/UpdateService", { action: "read update service" })
    .catch((err: unknown) => {
      if ((err as { status?: unknown }).status === 404) return undefined;
      throw err;
    });
  const link = isRecord(res?.body) ? res.body.FirmwareInventory : undefined;
  return isRecord(link) && typeof link["@odata.id"] === "string" ? link["@odata.id"] : undefined;
}

/**
 * The components whose reported version differs from the one declared (`image.expectFirmware`), or none. A
 * component the BMC does not report is a mismatch too (`reported` undefined): it cannot be confirmed.
 */
export function firmwareMismatches(
  expected: FirmwareVersions,
  reported: FirmwareVersions,
): { component: FirmwareComponent; expected: string; reported: string | undefined }[] {
  const out: { component: FirmwareComponent; expected: string; reported: string | undefined }[] = [];
  for (const [c, want] of Object.entries(expected) as [FirmwareComponent, string | undefined][]) {
    if (want !== undefined && reported[c] !== want)
      out.push({ component: c, expected: want, reported: reported[c] });
  }
  return out;
}

/** The error of an install whose firmware is not what `image.expectFirmware` declares. */
export function firmwareMismatchError(
  origin: string,
  mismatches: ReturnType<typeof firmwareMismatches>,
): DpuError {
  const each = mismatches.map(
    (m) =>
      `${m.component} (FirmwareInventory ${FIRMWARE_COMPONENTS[m.component].join("/")}): expected ${JSON.stringify(m.expected)}, the BMC reports ${m.reported === undefined ? "no such item" : JSON.stringify(m.reported)}`,
  );
  return new DpuError(
    "DPU_FIRMWARE_MISMATCH",
    `verify firmware after install on BMC ${origin}: ${each.join("; ")}. The install finished; the image does not carry the firmware image.expectFirmware declares (fix the image or the expectation, then run up again)`,
  );
}
