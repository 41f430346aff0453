import { actionBody, actionOk, enumParam } from "../actions";
import { type BmcContext, collection, link } from "../context";
import type { Router } from "../router";
import { nowIso } from "../state";
import { performReset } from "./systems";

/** Managers collection and the BMC's manager (with Manager.Reset). */
export function registerManagers(r: Router, c: BmcContext): void {
  const { profile: p, paths } = c;
  r.add(paths.managers, {
    GET: () => ({
      status: 200,
      body: collection("ManagerCollection", paths.managers, "Manager Collection", [paths.manager]),
    }),
  });
  r.add(paths.manager, {
    GET: () => {
      const body: Record<string, unknown> = {
        "@odata.type": "#Manager.v1_24_0.Manager",
        "@odata.id": paths.manager,
        Id: p.managerId,
        Name: p.name === "intel-ipu" ? "IMC" : "BMC",
        ManagerType: "BMC",
        FirmwareVersion: p.managerFirmware,
        UUID: c.uuid.replace(/^.{8}/, "b0000000"),
        PowerState: "On",
        DateTime: nowIso(),
        Status: { State: "Enabled", Health: "OK" },
        Links: { ManagerForServers: [link(paths.system)], ManagerForChassis: [link(paths.chassis)] },
        Actions: {
          "#Manager.Reset": {
            target: `${paths.manager}/Actions/Manager.Reset`,
            "ResetType@Redfish.AllowableValues": [...p.managerResetTypes],
          },
        },
      };
      if (p.virtualMedia?.under === "manager" && paths.vmCollection)
        body.VirtualMedia = link(paths.vmCollection);
      return { status: 200, body };
    },
  });
  r.add(`${paths.manager}/Actions/Manager.Reset`, {
    POST: ({ body }) => {
      const action = "Manager.Reset";
      const rec = actionBody(body, action, { optional: ["ResetType"] });
      const type =
        enumParam(rec, "ResetType", action, p.managerResetTypes) ??
        p.managerResetTypes[0] ??
        "GracefulRestart";
      if (p.managerResetRestartsDpu) performReset(c, type);
      // A BMC reboot ends every session (the service itself comes back at once in the lab).
      else setImmediate(() => c.sessions.clear());
      return actionOk(p.actionStatus);
    },
  });
}
