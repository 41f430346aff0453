import type { BootImage } from "../../contracts";
import type { BmcContext } from "../context";
import { httpError } from "../errors";
import type { Reply } from "../router";

type Json = Record<string, unknown>;

/**
 * Deferred updates (NVIDIA BlueField BMC v25.10, "Deploying Software Using BFB": Deferred Update Flow on
 * BlueField-3, staged and active after a reset), the Redfish way: the SimpleUpdate action advertises
 * `@Redfish.OperationApplyTimeSupport` and a request asks for `@Redfish.OperationApplyTime` (DSP0266 "Operation
 * apply time"); the staged image is listed in the FirmwareInventory as `Staged: true`, `Active: false`
 * (SoftwareInventory v1_12_0, "ready to be activated") until the reset that installs it. No capture shows how a
 * BlueField BMC lists a deferred update: the simulator uses the DMTF properties only, and the member id
 * (`<DPU_OS>-staged`) is its own.
 */

/** The `@Redfish.OperationApplyTimeSupport` annotation advertising `values`. */
export function applyTimeSupport(values: readonly string[]): Json {
  return { "@odata.type": "#Settings.v1_3_3.OperationApplyTimeSupport", SupportedValues: [...values] };
}

/**
 * The apply time an action request asks for, honoured only where the action advertises `supported`: a value
 * outside it is refused (400). Where nothing is advertised the annotation is ignored and the update applies at
 * once, which is why DpuHost never sends it there.
 */
export function requestedApplyTime(
  rec: Json,
  supported: readonly string[] | undefined,
  action: string,
): string {
  const asked = rec["@Redfish.OperationApplyTime"];
  if (!supported || asked === undefined) return "Immediate";
  if (typeof asked !== "string" || !supported.includes(asked)) {
    throw httpError(
      400,
      "ActionParameterValueNotInList",
      [String(asked), "@Redfish.OperationApplyTime", action],
      ["#/@Redfish.OperationApplyTime"],
    );
  }
  return asked;
}

/** Path of the staged member in the inventory collection `collection` (not `…_OS`-like: it is no install target). */
export function stagedMemberPath(c: BmcContext, collection: string): string {
  return `${collection}/${c.profile.osInventoryId}-staged`;
}

/** A FirmwareInventory collection body with the staged member listed while an update is staged. */
export function withStagedMember(c: BmcContext, body: Json, collection: string): Json {
  if (!c.state.staged || !Array.isArray(body.Members)) return body;
  const members = [...body.Members, { "@odata.id": stagedMemberPath(c, collection) }];
  return { ...body, Members: members, "Members@odata.count": members.length };
}

/**
 * GET of the staged member, 404 when nothing is staged: its `Version` is `versionOf` the staged image, the
 * version the OS inventory item will report once the reset installs it.
 */
export function stagedMemberReply(
  c: BmcContext,
  collection: string,
  versionOf: (staged: BootImage) => string,
): Reply {
  const path = stagedMemberPath(c, collection);
  const id = path.slice(path.lastIndexOf("/") + 1);
  const staged = c.state.staged;
  if (!staged) throw httpError(404, "ResourceNotFound", ["SoftwareInventory", id]);
  return {
    status: 200,
    body: {
      "@odata.type": "#SoftwareInventory.v1_13_0.SoftwareInventory",
      "@odata.id": path,
      Id: id,
      Name: `${staged.label} (staged, applied at the next reset)`,
      Version: versionOf(staged),
      Staged: true,
      Active: false,
      Updateable: true,
      Status: { State: "StandbyOffline", Health: "OK" },
    },
  };
}
