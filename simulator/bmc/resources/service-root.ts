import { type BmcContext, link } from "../context";
import type { Router } from "../router";

/** `/redfish`, `/redfish/v1` (no authentication). */
export function registerServiceRoot(r: Router, c: BmcContext): void {
  r.add("/redfish", { public: ["GET"], GET: () => ({ status: 200, body: { v1: "/redfish/v1/" } }) });
  r.add("/redfish/v1", {
    public: ["GET"],
    GET: () => ({
      status: 200,
      body: {
        "@odata.type": "#ServiceRoot.v1_20_0.ServiceRoot",
        "@odata.id": "/redfish/v1",
        Id: "RootService",
        Name: "Root Service",
        RedfishVersion: "1.20.0",
        UUID: c.uuid,
        Vendor: c.profile.vendor,
        Product: c.profile.product,
        Systems: link(c.paths.systems),
        Managers: link(c.paths.managers),
        Chassis: link(c.paths.chassisCollection),
        SessionService: link("/redfish/v1/SessionService"),
        Tasks: link("/redfish/v1/TaskService"),
        UpdateService: link("/redfish/v1/UpdateService"),
        Links: { Sessions: link("/redfish/v1/SessionService/Sessions") },
        // `$expand=.($levels=1)` on collections (dispatch.ts `expanded`).
        ProtocolFeaturesSupported: {
          ExpandQuery: { ExpandAll: false, Levels: true, MaxLevels: 1, Links: false, NoLinks: true },
        },
      },
    }),
  });
}
