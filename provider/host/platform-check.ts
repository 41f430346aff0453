import { DpuError } from "../errors";
import type { RedfishClient } from "../redfish/client";
import { expandedMembers } from "./expanded-members";

/**
 * The BlueField generation a model string names (`BlueField-3 SmartNIC Main Card`, the NVIDIA capture's
 * `Bluefield 3 SmartNIC Main Card`, `BlueField-2 DPU`), as `BlueField-<n>`; undefined when it names none.
 */
export function generationOf(text: string): string | undefined {
  const m = /\bblue\s*field[\s_-]*([1-9])\b/i.exec(text);
  return m ? `BlueField-${m[1]}` : undefined;
}

/** What the BMC reports about the DPU's platform: the resource and field naming a generation, if any. */
export interface ReportedPlatform {
  /** `BlueField-<n>`, or undefined when no Model names a generation. */
  readonly generation?: string;
  /** Where it was read, e.g. `/redfish/v1/Chassis/Card1 Model "Bluefield 3 SmartNIC Main Card"`. */
  readonly field?: string;
  /** Models and part numbers seen, for the error when none names a generation. */
  readonly seen: readonly string[];
}

/**
 * Reads the DPU's generation as the BMC reports it: the `Model` of a chassis (on the NVIDIA BlueField BMC the
 * card, `Chassis/Card1`; its ComputerSystem has no Model), else of a system. Reads only (GET).
 */
export async function readPlatform(client: RedfishClient): Promise<ReportedPlatform> {
  const action = "read the DPU platform";
  const seen: string[] = [];
  for (const collection of ["/redfish/v1/Chassis", "/redfish/v1/Systems"]) {
    const read = await expandedMembers(client, collection, action, () => true);
    for (const body of read?.bodies ?? []) {
      const where = String(body["@odata.id"] ?? collection);
      for (const field of ["Model", "PartNumber"] as const) {
        const v = body[field];
        if (typeof v !== "string" || v.trim() === "") continue;
        seen.push(`${where} ${field} ${JSON.stringify(v.trim())}`);
        const generation = field === "Model" ? generationOf(v) : undefined;
        if (generation) return { generation, field: `${where} ${field} ${JSON.stringify(v.trim())}`, seen };
      }
    }
  }
  return { seen };
}

/**
 * Refuses an image declared for another platform (`image.platform`) than the one the BMC reports, before any
 * request that changes state. Undefined: the platforms match.
 */
export function platformRefusal(
  declared: string,
  reported: ReportedPlatform,
  origin: string,
): DpuError | undefined {
  if (reported.generation === declared) return undefined;
  const found = reported.generation
    ? `the BMC reports ${reported.generation} (${reported.field})`
    : `the BMC reports no BlueField generation (${reported.seen.join("; ") || "no chassis or system Model"})`;
  return new DpuError(
    "DPU_PLATFORM_MISMATCH",
    `check platform on BMC ${origin}: image.platform is ${declared}, but ${found}; a BFB for another generation is refused by the DPU ("Invalid FW Package"). Nothing was changed: install a ${reported.generation ?? declared} image or correct image.platform`,
  );
}
