import type { BootImage, InstallExtras } from "../../contracts";
import { bfbAppendedConfig, parseBfb } from "../../images/bfb";
import { actionBody, enumParam, stringParam } from "../actions";
import { type BmcContext, collection, link } from "../context";
import { httpError, message } from "../errors";
import { type FetchedImage, fetchImage, ImageFetchError } from "../fetch-image";
import type { Router } from "../router";
import { TaskFailure } from "../task-manager";
import {
  applyTimeSupport,
  requestedApplyTime,
  stagedMemberPath,
  stagedMemberReply,
  withStagedMember,
} from "./staged-update";
import { taskAccepted } from "./tasks";

const SERVICE = "/redfish/v1/UpdateService";
const INVENTORY = `${SERVICE}/FirmwareInventory`;
const ACTION = "UpdateService.SimpleUpdate";
const PROTOCOLS = ["HTTP", "HTTPS"] as const;

/**
 * Checks SimpleUpdate's `Targets`: an array of strings, each (as `/path`, without trailing slashes) accepted by
 * `accept`; otherwise the Base message a BMC answers with.
 */
export function checkTargets(targets: unknown, accept: (path: string) => boolean): void {
  if (!Array.isArray(targets) || targets.some((t) => typeof t !== "string")) {
    throw httpError(
      400,
      "ActionParameterValueTypeError",
      [JSON.stringify(targets), "Targets", ACTION],
      ["#/Targets"],
    );
  }
  for (const t of targets as string[]) {
    if (!accept(`/${t.replace(/^\/+/, "")}`.replace(/\/+$/, "")))
      throw httpError(400, "ActionParameterValueNotInList", [t, "Targets", ACTION], ["#/Targets"]);
  }
}

/** An update image a BMC fetched: what it measured (the whole file) and what the BFB carried after its payload. */
export interface FetchedUpdate {
  readonly image: BootImage;
  readonly extras: InstallExtras;
  /** What a BFB's header declares (name, version): the DPU_OS inventory reports it once installed. */
  readonly bundle?: { readonly name: string; readonly version: string };
}

/** An update image from the bytes a BMC received (fetched or pushed): a BFB's appended bf.cfg travels with it. */
export function updateOf({ image, bytes }: FetchedImage): FetchedUpdate {
  const bfCfg = image.kind === "bfb" ? bfbAppendedConfig(bytes) : undefined;
  const header = image.kind === "bfb" ? parseBfb(bytes) : undefined;
  return {
    image,
    extras: bfCfg === undefined ? {} : { bfCfg },
    ...(header ? { bundle: { name: header.name, version: header.version } } : {}),
  };
}

/**
 * Fetches an update image inside a task: a fetch error ends the task with its Redfish message (400). The whole
 * file is kept: a BFB's appended bf.cfg travels with the image to the installer.
 */
export async function fetchUpdateImage(c: BmcContext, url: string): Promise<FetchedUpdate> {
  try {
    return updateOf(await fetchImage(url, c.ca(), c.signal));
  } catch (e) {
    if (e instanceof ImageFetchError) throw new TaskFailure(e.redfish, 400);
    throw e;
  }
}

/**
 * Ends a SimpleUpdate task with a fetched image: staged until the next reset, or (`installsNow`, BlueField)
 * checked to be a BFB bundle, installed and booted at once; the task ends when the install is done.
 */
export async function installOrStage(
  c: BmcContext,
  fetched: FetchedUpdate,
  url: string,
  installsNow: boolean,
): Promise<void> {
  const { image, extras } = fetched;
  if (!installsNow) {
    c.state.staged = image;
    c.state.stagedExtras = extras;
    c.state.stagedBundle = fetched.bundle;
    return;
  }
  if (image.kind !== "bfb") {
    throw new TaskFailure(
      { ...message("InvalidObject", [url]), Resolution: "The image is not a BFB bundle." },
      400,
    );
  }
  // An install now supersedes an update staged for the next reset.
  c.state.staged = undefined;
  c.state.stagedExtras = undefined;
  c.state.stagedBundle = undefined;
  let installed = false;
  await new Promise<void>((resolve, reject) => {
    void c.boot
      .installAndBoot(
        image,
        () => {
          installed = true;
          resolve();
        },
        extras,
      )
      .then(() => {
        if (!installed) reject(new TaskFailure(message("OperationFailed"), 500));
      });
  });
  // The DPU_OS inventory item reports the bundle now running (NVIDIA BlueField BMC "System Inventory").
  if (fetched.bundle) c.state.installedBundle = fetched.bundle;
}

/**
 * Resolves SimpleUpdate's ImageURI: a URI with a scheme is used as is (TransferProtocol ignored); a
 * scheme-less one (`host:port//file`, BlueField style) gets the TransferProtocol's scheme.
 */
function resolveImageUri(imageUri: string, protocol: string | undefined): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(imageUri)) {
    const scheme = imageUri.slice(0, imageUri.indexOf(":")).toUpperCase();
    if (!PROTOCOLS.includes(scheme as (typeof PROTOCOLS)[number])) {
      throw httpError(
        400,
        "ActionParameterValueNotInList",
        [scheme, "TransferProtocol", ACTION],
        ["#/ImageURI"],
      );
    }
    return imageUri;
  }
  if (!protocol)
    throw httpError(400, "ActionParameterMissing", [ACTION, "TransferProtocol"], ["#/TransferProtocol"]);
  const slash = imageUri.indexOf("/");
  const host = slash < 0 ? imageUri : imageUri.slice(0, slash);
  const path = slash < 0 ? "" : imageUri.slice(slash).replace(/^\/+/, "");
  return `${protocol.toLowerCase()}://${host}/${path}`;
}

/** UpdateService, FirmwareInventory and SimpleUpdate (202 + Task). */
export function registerUpdateService(r: Router, c: BmcContext): void {
  const { profile: p, state: s } = c;
  const osItem = `${INVENTORY}/${p.osInventoryId}`;
  const bmcId = p.name === "bluefield" ? "BMC_Firmware" : "BMC";
  const bmcItem = `${INVENTORY}/${bmcId}`;
  // The BlueField-like profile (it installs a BFB at once) also stages one for the next reset on request.
  const applyTimes = p.updateInstallsNow ? ["Immediate", "OnReset"] : undefined;

  r.add(SERVICE, {
    GET: () => ({
      status: 200,
      body: {
        "@odata.type": "#UpdateService.v1_17_0.UpdateService",
        "@odata.id": SERVICE,
        Id: "UpdateService",
        Name: "Update Service",
        ServiceEnabled: true,
        FirmwareInventory: link(INVENTORY),
        Status: { State: "Enabled", Health: "OK" },
        Actions: {
          "#UpdateService.SimpleUpdate": {
            target: `${SERVICE}/Actions/${ACTION}`,
            "TransferProtocol@Redfish.AllowableValues": [...PROTOCOLS],
            ...(applyTimes ? { "@Redfish.OperationApplyTimeSupport": applyTimeSupport(applyTimes) } : {}),
          },
        },
      },
    }),
  });
  r.add(INVENTORY, {
    GET: () => ({
      status: 200,
      body: withStagedMember(
        c,
        collection("SoftwareInventoryCollection", INVENTORY, "Firmware Inventory", [bmcItem, osItem]),
        INVENTORY,
      ),
    }),
  });
  // The staged member reports the version DPU_OS will show once the reset installs it: the image's label here.
  r.add(stagedMemberPath(c, INVENTORY), {
    GET: () => stagedMemberReply(c, INVENTORY, (staged) => staged.label),
  });
  const item = (id: string, uri: string, version: string, name: string) => ({
    status: 200,
    body: {
      "@odata.type": "#SoftwareInventory.v1_13_0.SoftwareInventory",
      "@odata.id": uri,
      Id: id,
      Name: name,
      Version: version,
      Updateable: id === p.osInventoryId,
      Status: { State: "Enabled", Health: "OK" },
    },
  });
  r.add(bmcItem, { GET: () => item(bmcId, bmcItem, p.managerFirmware, "BMC firmware") });
  r.add(osItem, {
    GET: () => item(p.osInventoryId, osItem, c.backend.installedImage()?.label ?? "", "DPU operating system"),
  });

  r.add(`${SERVICE}/Actions/${ACTION}`, {
    POST: ({ body }) => {
      const rec = actionBody(body, ACTION, {
        required: ["ImageURI"],
        optional: ["TransferProtocol", "Targets", "Username", "Password", "ForceUpdate"],
      });
      const imageUri = stringParam(rec, "ImageURI", ACTION) as string;
      const protocol = enumParam(rec, "TransferProtocol", ACTION, PROTOCOLS);
      const url = resolveImageUri(imageUri, protocol);
      checkTargets(rec.Targets ?? [osItem], (t) => t === osItem);
      const now = requestedApplyTime(rec, applyTimes, ACTION) === "Immediate";
      if (s.updateInProgress) throw httpError(400, "ResourceInUse");
      s.updateInProgress = true;
      const task = c.tasks.start("Firmware update", `${SERVICE}/Actions/${ACTION}`, async (h) => {
        try {
          h.progress(10);
          const image = await fetchUpdateImage(c, url);
          h.progress(50);
          await h.minDuration();
          await installOrStage(c, image, url, now && p.updateInstallsNow);
        } finally {
          s.updateInProgress = false;
        }
      });
      return taskAccepted(task);
    },
  });
}
