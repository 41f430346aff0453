import { type BmcContext, collection, link } from "../context";
import type { Router } from "../router";

/** Chassis collection and the DPU card. */
export function registerChassis(r: Router, c: BmcContext): void {
  const { profile: p, paths } = c;
  r.add(paths.chassisCollection, {
    GET: () => ({
      status: 200,
      body: collection("ChassisCollection", paths.chassisCollection, "Chassis Collection", [paths.chassis]),
    }),
  });
  r.add(paths.chassis, {
    GET: () => ({
      status: 200,
      body: {
        "@odata.type": "#Chassis.v1_28_0.Chassis",
        "@odata.id": paths.chassis,
        Id: p.chassisId,
        Name: "DPU Card",
        ChassisType: "Card",
        Manufacturer: p.manufacturer,
        Model: p.model,
        SerialNumber: c.serial,
        PowerState: c.state.power === "Off" ? "Off" : "On",
        Status: { State: "Enabled", Health: "OK" },
        Links: { ComputerSystems: [link(paths.system)], ManagedBy: [link(paths.manager)] },
      },
    }),
  });
}
