import { actionBody, actionOk } from "../actions";
import type { BmcContext } from "../context";
import { httpError } from "../errors";
import { imageNameOf, mediaSlotRoute, parseInsertMedia } from "../resources/virtual-media";
import type { CaptureModel, SlotModel } from "./model";
import type { CaptureRouter } from "./router";
import { liveCopy } from "./systems";

type Json = Record<string, unknown>;

/** Slot properties the state machine owns (served only where the capture shows them, `Image`/`Inserted` always). */
export const MEDIA_OWNED = [
  "Image",
  "ImageName",
  "Inserted",
  "WriteProtected",
  "ConnectedVia",
  "TransferProtocolType",
  "TransferMethod",
] as const;

/**
 * Every captured virtual-media slot, driven as its capture offers: InsertMedia/EjectMedia where the slot has
 * the actions, PATCH of `Image`/`Inserted`/`WriteProtected` where it has none. Each slot starts as captured
 * (inserted media included); the boot slot's media is what the DPU boots with a `Cd` override.
 */
export function registerCaptureVirtualMedia(r: CaptureRouter, c: BmcContext, m: CaptureModel): void {
  const s = c.state;
  const quirks = m.spec.quirks ?? {};
  const fields = new Map<string, Json>();
  // Quirk (iDRAC): deprecated Manager slots are other names of the Systems slots (one device, two URIs).
  const key = (path: string) => quirks.slotAliases?.[path] ?? path;
  const syncBoot = (slot: SlotModel) => {
    if (key(slot.path) !== m.bootSlot?.path) return;
    const f = fields.get(key(slot.path)) ?? {};
    s.media = {
      inserted: f.Inserted === true,
      ...(typeof f.Image === "string" ? { image: f.Image } : {}),
      writeProtected: f.WriteProtected !== false,
    };
  };
  for (const slot of m.slots) {
    const cap = m.tree.resources.get(slot.path);
    const body = cap?.kind === "json" ? (cap.body as Json) : {};
    const f: Json = {};
    for (const k of MEDIA_OWNED) if (Object.hasOwn(body, k)) f[k] = body[k];
    if (!fields.has(key(slot.path))) fields.set(key(slot.path), f);
    syncBoot(slot);

    const set = (values: Json) => {
      const cur = fields.get(key(slot.path)) ?? {};
      for (const [k, v] of Object.entries(values))
        if (k === "Image" || k === "Inserted" || Object.hasOwn(body, k)) cur[k] = v;
      fields.set(key(slot.path), cur);
      syncBoot(slot);
    };
    // A client's insert in another slot is a medium the DPU sees at boot (captured leftovers are not fetched).
    const track = (image: string | undefined) => {
      const k = key(slot.path);
      if (k === m.bootSlot?.path) return;
      if (image === undefined) delete s.extraMedia[k];
      else s.extraMedia[k] = image;
    };
    const insert = (image: string, method: string, writeProtected: boolean) => {
      track(image);
      set({
        Image: image,
        ImageName: imageNameOf(image),
        Inserted: true,
        WriteProtected: writeProtected,
        ConnectedVia: "URI",
        TransferProtocolType: image.startsWith("https:") ? "HTTPS" : "HTTP",
        TransferMethod: method,
      });
    };
    const eject = () => {
      track(undefined);
      set({
        Image: null,
        // Quirk (Supermicro): the eject leaves ImageName as it was (community.general #6969).
        ...(quirks.ejectKeepsImageName ? {} : { ImageName: null }),
        Inserted: false,
        ConnectedVia: "NotConnected",
        TransferProtocolType: null,
      });
    };
    const inserted = () => fields.get(key(slot.path))?.Inserted === true;
    const view = (): Json => {
      const v: Json = { ...liveCopy(body), ...fields.get(key(slot.path)) };
      // Quirk (Supermicro): EjectMedia is listed only while media is inserted.
      if (
        quirks.ejectOnlyWhileInserted &&
        !inserted() &&
        typeof v.Actions === "object" &&
        v.Actions !== null
      ) {
        const { "#VirtualMedia.EjectMedia": _gone, ...actions } = v.Actions as Json;
        v.Actions = actions;
      }
      return v;
    };

    r.overlay.add(
      slot.path,
      mediaSlotRoute(view, slot.patchable === true, {
        eject,
        insert,
        setWriteProtected: (wp) => set({ WriteProtected: wp }),
      }),
    );
    if (slot.insertTarget) {
      const methods = slot.transferMethods ?? ["Stream"];
      r.overlay.add(slot.insertTarget, {
        POST: ({ body: req }) => {
          const { image, method, writeProtected } = parseInsertMedia(req, methods, false);
          if (fields.get(key(slot.path))?.Inserted === true) throw httpError(409, "ResourceInUse");
          insert(image, method, writeProtected);
          return actionOk(m.spec.actionStatus);
        },
      });
    }
    if (slot.ejectTarget) {
      r.overlay.add(slot.ejectTarget, {
        POST: ({ body: req }) => {
          if (quirks.ejectOnlyWhileInserted && !inserted())
            throw httpError(400, "ActionNotSupported", ["VirtualMedia.EjectMedia"]);
          // Quirk (iLO): an EjectMedia without a JSON body is refused; `{}` works.
          if (quirks.ejectRequiresBody && req === undefined) throw httpError(400, "MalformedJSON");
          actionBody(req, "VirtualMedia.EjectMedia", {});
          eject();
          return actionOk(m.spec.actionStatus);
        },
      });
    }
  }
}
