import type { BmcContext } from "../context";
import { registerSessions } from "../resources/sessions";
import { registerTasks } from "../resources/tasks";
import type { BmcState } from "../state";
import { registerJobs } from "./jobs";
import type { CaptureModel } from "./model";
import { metadataXml, registerOdata } from "./odata";
import { CaptureRouter } from "./router";
import { liveCopy, registerCaptureSystems, seedSystemState } from "./systems";
import { registerCaptureUpdate } from "./update";
import { registerCaptureVirtualMedia } from "./virtual-media";

type Json = Record<string, unknown>;

function isRecord(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Seeds a fresh BMC state from the capture (before any handler runs). */
export function seedCaptureState(m: CaptureModel, s: BmcState): void {
  seedSystemState(m, s);
}

/** A captured collection whose Members also list what the BMC created at run time (sessions, tasks). */
function liveCollection(r: CaptureRouter, m: CaptureModel, path: string, extra: () => string[]): void {
  const cap = m.tree.resources.get(path);
  if (cap?.kind !== "json") return;
  r.overlay.add(path, {
    GET: () => {
      const body = liveCopy(cap.body);
      const members = Array.isArray(body.Members) ? body.Members : [];
      const all = [...members, ...extra().map((id) => ({ "@odata.id": id }))];
      body.Members = all;
      body["Members@odata.count"] = all.length;
      return { status: 200, body };
    },
  });
}

/**
 * The router of a capture-backed BMC: every captured resource as captured, the state machine on the resources
 * it owns, live sessions and tasks, and `$metadata`, `odata`, the service root and `/redfish` without
 * authentication.
 */
export function buildCaptureRouter(c: BmcContext, m: CaptureModel): CaptureRouter {
  const publicPaths = new Set(["/redfish", "/redfish/v1", "/redfish/v1/$metadata", "/redfish/v1/odata"]);
  const r = new CaptureRouter(m.tree, publicPaths);
  const quirks = m.spec.quirks ?? {};
  // Quirk (emulator): no SessionService at all, Basic authentication only.
  if (!quirks.noSessions) registerSessions(r.live, c);
  registerTasks(r.live, c);
  if (quirks.jobTasks) registerJobs(r.live, c, quirks.jobTasks.monitorBase);
  if (!m.tree.resources.has("/redfish")) {
    r.overlay.add("/redfish", { GET: () => ({ status: 200, body: { v1: "/redfish/v1/" } }) });
  }
  const root = m.tree.resources.get("/redfish/v1");
  const rootBody = root?.kind === "json" ? (root.body as Json) : {};
  const meta = m.tree.resources.get("/redfish/v1/$metadata");
  const types = [...m.tree.resources.values()].flatMap((x) =>
    x.kind === "json" && typeof x.body["@odata.type"] === "string" ? [x.body["@odata.type"]] : [],
  );
  registerOdata(r.overlay, {
    ...(meta ? {} : { metadata: () => metadataXml(types) }),
    ...(m.tree.resources.has("/redfish/v1/odata") ? {} : { root: () => rootBody }),
  });
  const sessionsPath = isRecord(rootBody.SessionService)
    ? `${String(rootBody.SessionService["@odata.id"] ?? "/redfish/v1/SessionService").replace(/\/+$/, "")}/Sessions`
    : "/redfish/v1/SessionService/Sessions";
  if (!quirks.noSessions)
    liveCollection(r, m, sessionsPath, () =>
      c.sessions.list().map((s) => `/redfish/v1/SessionService/Sessions/${s.id}`),
    );
  liveCollection(r, m, "/redfish/v1/TaskService/Tasks", () =>
    [...c.tasks.tasks.keys()].map((id) => `/redfish/v1/TaskService/Tasks/${id}`),
  );
  registerCaptureSystems(r, c, m);
  registerCaptureVirtualMedia(r, c, m);
  registerCaptureUpdate(r, c, m);
  return r;
}
