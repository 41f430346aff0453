import type { RedfishClient } from "../redfish/client";

/** A Redfish JSON object. */
export type Json = Record<string, unknown>;

/** True for a JSON object (not null, not an array). */
export function isRecord(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * The members of a collection with their bodies, read with one `$expand=.($levels=1)` request (DSP0266 §7.3).
 * A member the BMC left as a link (no expansion) is read by GET when `follow(path)` says so, else left out;
 * `undefined` when the collection does not exist (404).
 */
export async function expandedMembers(
  client: RedfishClient,
  path: string,
  action: string,
  follow: (memberPath: string) => boolean,
): Promise<{ readonly bodies: Json[]; readonly expanded: boolean } | undefined> {
  const res = await client.get(`${path}?$expand=.($levels=1)`, { action }).catch((err: unknown) => {
    if ((err as { status?: unknown }).status === 404) return undefined;
    throw err;
  });
  if (!res) return undefined;
  const members =
    isRecord(res.body) && Array.isArray(res.body.Members) ? res.body.Members.filter(isRecord) : [];
  const bodies: Json[] = [];
  let expanded = members.length > 0;
  for (const m of members) {
    const id = typeof m["@odata.id"] === "string" ? m["@odata.id"] : undefined;
    if (!id || Object.keys(m).some((k) => k !== "@odata.id")) {
      bodies.push(m);
      continue;
    }
    expanded = false;
    if (!follow(id)) continue;
    const r = await client.get(id, { action });
    if (isRecord(r.body)) bodies.push(r.body);
  }
  return { bodies, expanded };
}
