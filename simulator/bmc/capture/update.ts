import { actionBody, enumParam, stringParam } from "../actions";
import type { BmcContext } from "../context";
import { httpError, message } from "../errors";
import {
  requestedApplyTime,
  stagedMemberPath,
  stagedMemberReply,
  withStagedMember,
} from "../resources/staged-update";
import { checkTargets, fetchUpdateImage } from "../resources/update-service";
import { TaskFailure } from "../task-manager";
import type { CaptureModel } from "./model";
import { registerCapturePushUpdate } from "./push-update";
import type { CaptureRouter } from "./router";
import { fetchOverScp, registerScpKeyExchange } from "./scp-transfer";
import { liveCopy } from "./systems";
import { startUpdateTask } from "./update-task";

const ACTION = "UpdateService.SimpleUpdate";
/** TransferProtocol values of the Redfish schema (what a capture that lists none accepts). */
const ANY_PROTOCOL = ["CIFS", "FTP", "SFTP", "HTTP", "HTTPS", "NSF", "SCP", "TFTP", "OEM", "NFS"];
/** What the simulator can really fetch (SCP with the real `scp`, after the BlueField key exchange). */
const FETCHABLE = ["HTTP", "HTTPS", "SCP"];

/**
 * SimpleUpdate as captured: only the TransferProtocol values the capture allows (inline, nested, or through its
 * ActionInfo), for the ImageURI's scheme as for the parameter; a refused value is a Base
 * `ActionParameterValueNotInList`. The image is fetched in a task (HTTP/HTTPS; other protocols end the task in
 * Exception), then installed at once with a reboot (BlueField) or staged until the next reset. The push
 * URIs the capture advertises (HttpPushUri, MultipartHttpPushUri) start the same task with the pushed bytes.
 */
export function registerCaptureUpdate(r: CaptureRouter, c: BmcContext, m: CaptureModel): void {
  registerCapturePushUpdate(r, c, m);
  registerScpKeyExchange(r, c, m);
  const su = m.simpleUpdate;
  if (!su) return;
  registerInstalledOsVersion(r, c, m, su.inventory);
  const protocols = su.protocols ?? ANY_PROTOCOL;
  r.overlay.add(su.target, {
    POST: ({ body }) => {
      const rec = actionBody(body, ACTION, {
        required: ["ImageURI"],
        optional: [
          ...new Set(["TransferProtocol", "Targets", "Username", "Password", "ForceUpdate", ...su.params]),
        ].filter((p) => p !== "ImageURI"),
      });
      const imageUri = stringParam(rec, "ImageURI", ACTION) as string;
      const protocol = enumParam(rec, "TransferProtocol", ACTION, protocols);
      let url: string;
      let scheme: string;
      if (/^[a-z][a-z0-9+.-]*:\/\//i.test(imageUri)) {
        scheme = imageUri.slice(0, imageUri.indexOf(":")).toUpperCase();
        if (!protocols.includes(scheme)) {
          throw httpError(
            400,
            "ActionParameterValueNotInList",
            [scheme, "TransferProtocol", ACTION],
            ["#/ImageURI"],
          );
        }
        url = imageUri;
      } else {
        if (!protocol) {
          throw httpError(
            400,
            "ActionParameterMissing",
            [ACTION, "TransferProtocol"],
            ["#/TransferProtocol"],
          );
        }
        scheme = protocol;
        const slash = imageUri.indexOf("/");
        const host = slash < 0 ? imageUri : imageUri.slice(0, slash);
        const path = slash < 0 ? "" : imageUri.slice(slash).replace(/^\/+/, "");
        url = `${protocol.toLowerCase()}://${host}/${path}`;
      }
      checkTargets(rec.Targets ?? [], (t) => su.inventory.length === 0 || su.inventory.includes(t));
      const username = stringParam(rec, "Username", ACTION);
      const now = requestedApplyTime(rec, su.applyTimes, ACTION) === "Immediate";
      return startUpdateTask(c, m, su.target, url, now && m.spec.updateInstallsNow, async () => {
        if (!FETCHABLE.includes(scheme)) {
          throw new TaskFailure(
            {
              ...message("OperationFailed"),
              Resolution: `The simulator transfers images over HTTP, HTTPS and SCP only; ${scheme} is accepted but not simulated.`,
            },
            400,
          );
        }
        return scheme === "SCP" ? fetchOverScp(c, url, username) : fetchUpdateImage(c, url);
      });
    },
  });
}

/** The staged update in the captured FirmwareInventory (see resources/staged-update.ts). */
function registerStagedInventory(r: CaptureRouter, c: BmcContext, m: CaptureModel, osItem: string): void {
  const collection = osItem.slice(0, osItem.lastIndexOf("/"));
  const cap = m.tree.resources.get(collection);
  if (cap?.kind !== "json") return;
  r.overlay.add(collection, {
    GET: () => ({ status: 200, body: withStagedMember(c, liveCopy(cap.body), collection) }),
  });
  // DPU_OS reports a BFB's header version once installed (registerInstalledOsVersion): so does the staged one.
  r.overlay.add(stagedMemberPath(c, collection), {
    GET: () => stagedMemberReply(c, collection, (staged) => c.state.stagedBundle?.version ?? staged.label),
  });
}

/**
 * The DPU OS inventory item (`…/FirmwareInventory/DPU_OS`) as captured (the NVIDIA capture's odd `"ion:"`
 * included) until this BMC installs a BFB; then its `Version` is the version the bundle's header declares, as a
 * BlueField BMC reports the BFB now running (NVIDIA BlueField BMC software, "System Inventory").
 */
function registerInstalledOsVersion(
  r: CaptureRouter,
  c: BmcContext,
  m: CaptureModel,
  inventory: readonly string[],
): void {
  const path = inventory.find((p) => p.endsWith(`/${c.profile.osInventoryId}`));
  const cap = path ? m.tree.resources.get(path) : undefined;
  if (!path || cap?.kind !== "json") return;
  registerStagedInventory(r, c, m, path);
  r.overlay.add(path, {
    GET: () => {
      const body = liveCopy(cap.body);
      const bundle = c.state.installedBundle;
      return { status: 200, body: bundle ? { ...body, Version: bundle.version } : body };
    },
  });
}
