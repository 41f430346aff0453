import { actionBody, actionOk } from "../actions";
import type { BmcContext } from "../context";
import { httpError } from "../errors";
import type { Router } from "../router";
import { imageNameOf, mediaSlotRoute, parseInsertMedia } from "./virtual-media";

const INSERT = "VirtualMedia.InsertMedia";

/** What the second slot shows besides its image (the image URL itself lives in `state.extraMedia`). */
interface SlotFields {
  imageName?: string;
  transferProtocol?: string;
  writeProtected: boolean;
}

/**
 * The profile's second slot (a removable-media slot next to the CD), where it has one: GET, PATCH where the CD
 * allows it, InsertMedia / EjectMedia, streamed. What it holds is in `state.extraMedia` under its URI, so the
 * boot hands it to the DPU with the other attached media; it is never the boot source.
 */
export function registerSecondSlot(r: Router, c: BmcContext): void {
  const { profile: p, paths, state: s } = c;
  const def = p.virtualMedia?.second;
  const uri = paths.vm2;
  if (!def || !uri || !p.virtualMedia) return;
  const patchable = p.virtualMedia.patchable;
  let f: SlotFields = { writeProtected: true };
  const image = (): string | undefined => s.extraMedia[uri];

  const view = (): Record<string, unknown> => ({
    "@odata.type": "#VirtualMedia.v1_6_5.VirtualMedia",
    "@odata.id": uri,
    Id: def.id,
    Name: def.name,
    MediaTypes: [...def.mediaTypes],
    Image: image() ?? null,
    ImageName: f.imageName ?? null,
    Inserted: image() !== undefined,
    WriteProtected: f.writeProtected,
    ConnectedVia: image() !== undefined ? "URI" : "NotConnected",
    TransferMethod: "Stream",
    TransferProtocolType: f.transferProtocol ?? null,
    Actions: {
      "#VirtualMedia.InsertMedia": {
        target: `${uri}/Actions/${INSERT}`,
        "TransferMethod@Redfish.AllowableValues": ["Stream"],
        "TransferProtocolType@Redfish.AllowableValues": ["HTTP", "HTTPS"],
      },
      "#VirtualMedia.EjectMedia": { target: `${uri}/Actions/VirtualMedia.EjectMedia` },
    },
  });
  const eject = (): void => {
    delete s.extraMedia[uri];
    f = { writeProtected: true };
  };
  const insert = (url: string, _method: string, writeProtected: boolean): void => {
    s.extraMedia[uri] = url;
    f = {
      imageName: imageNameOf(url),
      transferProtocol: url.startsWith("https:") ? "HTTPS" : "HTTP",
      writeProtected,
    };
  };

  r.add(
    uri,
    mediaSlotRoute(view, patchable, {
      eject,
      insert,
      setWriteProtected: (wp) => {
        f.writeProtected = wp;
      },
    }),
  );
  r.add(`${uri}/Actions/${INSERT}`, {
    POST: ({ body: req }) => {
      const { image: url, method, writeProtected } = parseInsertMedia(req, ["Stream"], false);
      if (image() !== undefined) throw httpError(409, "ResourceInUse");
      insert(url, method, writeProtected);
      return actionOk(p.actionStatus);
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
