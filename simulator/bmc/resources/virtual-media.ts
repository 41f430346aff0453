import { basename } from "node:path/posix";
import { actionBody, actionOk, enumParam, stringParam } from "../actions";
import { type BmcContext, collection } from "../context";
import { httpError } from "../errors";
import { fetchBootImage, ImageFetchError } from "../fetch-image";
import { validatePatch } from "../patch";
import type { RouteDef, Router } from "../router";
import { TaskFailure } from "../task-manager";
import { taskAccepted } from "./tasks";

const INSERT = "VirtualMedia.InsertMedia";

/** The file name of an image URL (the URL itself when it has none). */
export function imageNameOf(url: string): string {
  try {
    return basename(new URL(url).pathname) || url;
  } catch {
    return url;
  }
}

/** Checks an image URL: absolute http(s). */
export function checkImageUrl(url: string, action: string): void {
  let ok = false;
  try {
    const u = new URL(url);
    ok = u.protocol === "http:" || u.protocol === "https:";
  } catch {
    ok = false;
  }
  if (!ok) throw httpError(400, "ActionParameterValueFormatError", [url, "Image", action], ["#/Image"]);
}

/** What a slot does for a media PATCH or InsertMedia (the slot keeps its own state). */
export interface MediaOps {
  eject(): void;
  insert(image: string, method: string, writeProtected: boolean): void;
  setWriteProtected(writeProtected: boolean): void;
}

/** A virtual-media PATCH (`Image`, `Inserted`, `WriteProtected`), validated and applied through `ops`. */
export function applyMediaPatch(
  req: unknown,
  current: Record<string, unknown> | undefined,
  ops: MediaOps,
): void {
  const patch = validatePatch(
    req,
    {
      Image: { kind: "string", nullable: true, format: "uri" },
      Inserted: { kind: "boolean" },
      WriteProtected: { kind: "boolean" },
    },
    current,
  );
  if (patch.Image === null || patch.Inserted === false) ops.eject();
  else if (typeof patch.Image === "string") {
    checkImageUrl(patch.Image, "PATCH");
    ops.insert(patch.Image, "Stream", patch.WriteProtected !== false);
  } else if (typeof patch.WriteProtected === "boolean") ops.setWriteProtected(patch.WriteProtected);
}

/** The route methods of a slot: GET of `view()`, and PATCH (see {@link applyMediaPatch}) when `patchable`. */
export function mediaSlotRoute(
  view: () => Record<string, unknown>,
  patchable: boolean,
  ops: MediaOps,
): RouteDef {
  return {
    GET: () => ({ status: 200, body: view() }),
    ...(patchable
      ? {
          PATCH: ({ body: req, current }) => {
            applyMediaPatch(req, current, ops);
            return { status: 200, body: view() };
          },
        }
      : {}),
  };
}

/** An InsertMedia request, validated: the image, the transfer method (one of `methods`) and write protection. */
export function parseInsertMedia(
  req: unknown,
  methods: readonly string[],
  transferMethodRequired: boolean,
): { readonly image: string; readonly method: string; readonly writeProtected: boolean } {
  const optional = ["Inserted", "WriteProtected", "TransferProtocolType", "UserName", "Password"];
  const rec = actionBody(req, INSERT, {
    required: transferMethodRequired ? ["Image", "TransferMethod"] : ["Image"],
    optional: transferMethodRequired ? optional : [...optional, "TransferMethod"],
  });
  const image = stringParam(rec, "Image", INSERT) as string;
  checkImageUrl(image, INSERT);
  const method = enumParam(rec, "TransferMethod", INSERT, methods) ?? methods[0] ?? "Stream";
  enumParam(rec, "TransferProtocolType", INSERT, ["HTTP", "HTTPS"]);
  return { image, method, writeProtected: rec.WriteProtected !== false };
}

/** The one CD slot: GET, PATCH (where allowed), InsertMedia / EjectMedia. Absent on BlueField (404). */
export function registerVirtualMedia(r: Router, c: BmcContext): void {
  const { profile: p, paths, state: s } = c;
  const vm = p.virtualMedia;
  if (!vm || !paths.vm || !paths.vmCollection) return;
  const uri = paths.vm;
  const methods = vm.uploadOnly ? ["Upload"] : ["Stream"];

  const body = (): Record<string, unknown> => ({
    "@odata.type": "#VirtualMedia.v1_6_5.VirtualMedia",
    "@odata.id": uri,
    Id: vm.id,
    Name: "Virtual CD",
    MediaTypes: ["CD", "DVD"],
    Image: s.media.image ?? null,
    ImageName: s.media.imageName ?? null,
    Inserted: s.media.inserted,
    WriteProtected: s.media.writeProtected,
    ConnectedVia: s.media.inserted ? "URI" : "NotConnected",
    TransferMethod: s.media.transferMethod ?? methods[0],
    TransferProtocolType: s.media.transferProtocol ?? null,
    Actions: {
      "#VirtualMedia.InsertMedia": {
        target: `${uri}/Actions/${INSERT}`,
        "TransferMethod@Redfish.AllowableValues": methods,
        "TransferProtocolType@Redfish.AllowableValues": ["HTTP", "HTTPS"],
      },
      "#VirtualMedia.EjectMedia": { target: `${uri}/Actions/VirtualMedia.EjectMedia` },
    },
  });

  const eject = () => {
    s.media = { inserted: false, writeProtected: true };
  };
  const insertNow = (image: string, method: string, writeProtected: boolean) => {
    s.media = {
      inserted: true,
      image,
      imageName: imageNameOf(image),
      transferMethod: method,
      transferProtocol: image.startsWith("https:") ? "HTTPS" : "HTTP",
      writeProtected,
    };
  };

  r.add(paths.vmCollection, {
    GET: () => ({
      status: 200,
      body: collection(
        "VirtualMediaCollection",
        paths.vmCollection as string,
        "Virtual Media Services",
        paths.vm2 ? [uri, paths.vm2] : [uri],
      ),
    }),
  });
  r.add(
    uri,
    mediaSlotRoute(body, vm.patchable === true, {
      eject,
      insert: insertNow,
      setWriteProtected: (wp) => {
        s.media.writeProtected = wp;
      },
    }),
  );
  r.add(`${uri}/Actions/${INSERT}`, {
    POST: ({ body: req }) => {
      const { image, method, writeProtected } = parseInsertMedia(req, methods, vm.uploadOnly === true);
      if (!vm.uploadOnly) {
        if (s.media.inserted) throw httpError(409, "ResourceInUse");
        insertNow(image, method, writeProtected);
        return actionOk(p.actionStatus);
      }
      // Intel IPU: the IMC ejects the old image, downloads the new one, then shows it inserted.
      eject();
      const task = c.tasks.start("Virtual media upload", `${uri}/Actions/${INSERT}`, async (h) => {
        h.progress(5);
        let downloaded: Awaited<ReturnType<typeof fetchBootImage>>;
        try {
          downloaded = await fetchBootImage(image, c.ca(), c.signal);
        } catch (e) {
          if (e instanceof ImageFetchError) throw new TaskFailure(e.redfish, 400);
          throw e;
        }
        h.progress(90);
        await h.minDuration();
        insertNow(image, "Upload", writeProtected);
        s.media.downloaded = downloaded;
      });
      return taskAccepted(task);
    },
  });
  r.add(`${uri}/Actions/VirtualMedia.EjectMedia`, {
    POST: ({ body: req }) => {
      actionBody(req, "VirtualMedia.EjectMedia", {});
      eject();
      return actionOk(p.actionStatus);
    },
  });
}
