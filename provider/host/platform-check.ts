import { DpuError } from "../errors";
import type { RedfishClient } from "../redfish/client";

type Json = Record<string, unknown>;

const EXPAND = "?$expand=.($levels=1)";

function isRecord(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

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

/** The members of a collection with their bodies: one expanded GET, or the links read one by one. */
async function membersOf(client: RedfishClient, path: string, action: string): Promise<Json[]> {
  const res = await client.get(`${path}${EXPAND}`, { action }).catch((err: unknown) => {
    if ((err as { status?: unknown }).status === 404) return undefined;
    throw err;
  });
  const members =
    isRecord(res?.body) && Array.isArray(res.body.Members) ? res.body.Members.filter(isRecord) : [];
  const out: Json[] = [];
  for (const m of members) {
    if ("Model" in m || "PartNumber" in m || "Name" in m) out.push(m);
    else if (typeof m["@odata.id"] === "string") {
      const r = await client.get(m["@odata.id"], { action });
      if (isRecord(r.body)) out.push(r.body);
    }
  }
  return out;
}

/**
 * Reads the DPU's generation as the BMC reports it: the `Model` of a chassis (on the NVIDIA BlueField BMC the
 * card, `Chassis/Card1`; its ComputerSystem has no Model), else of a system. Reads only (GET).
 */
export async function readPlatform(client: RedfishClient): Promise<ReportedPlatform> {
  const action = "read the DPU platform";
  const seen: string[] = [];
  for (const collection of ["/redfish/v1/Chassis", "/redfish/v1/Systems"]) {
    for (const body of await membersOf(client, collection, action)) {
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
