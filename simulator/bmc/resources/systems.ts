import { actionBody, actionOk, enumParam } from "../actions";
import { type BmcContext, collection, link } from "../context";
import { httpError } from "../errors";
import { type PatchSpec, validatePatch } from "../patch";
import type { Router } from "../router";
import type { BootOverride } from "../state";

const ENABLED = ["Disabled", "Once", "Continuous"] as const;

function bootSpec(c: BmcContext): PatchSpec {
  const p = c.profile;
  return {
    BootSourceOverrideEnabled: { kind: "enum", values: ENABLED },
    BootSourceOverrideTarget: { kind: "enum", values: p.bootTargets },
    BootSourceOverrideMode: { kind: "enum", values: p.bootModes },
    ...(p.bootTargets.includes("UefiHttp")
      ? { HttpBootUri: { kind: "string", nullable: true, format: "uri" } }
      : {}),
  } as PatchSpec;
}

function bootBody(c: BmcContext, o: BootOverride, withAllowable: boolean): Record<string, unknown> {
  const p = c.profile;
  const body: Record<string, unknown> = {
    BootSourceOverrideEnabled: o.enabled,
    BootSourceOverrideTarget: o.target,
    BootSourceOverrideMode: o.mode,
  };
  if (withAllowable) {
    body["BootSourceOverrideEnabled@Redfish.AllowableValues"] = [...ENABLED];
    body["BootSourceOverrideTarget@Redfish.AllowableValues"] = [...p.bootTargets];
    body["BootSourceOverrideMode@Redfish.AllowableValues"] = [...p.bootModes];
  }
  if (p.bootTargets.includes("UefiHttp")) body.HttpBootUri = o.httpBootUri ?? null;
  return body;
}

/** Applies a validated `Boot` PATCH object to an override (hand-written and capture-backed profiles). */
export function mergeBoot(o: Partial<BootOverride>, patch: Record<string, unknown>): Partial<BootOverride> {
  const out = { ...o };
  if (typeof patch.BootSourceOverrideEnabled === "string") out.enabled = patch.BootSourceOverrideEnabled;
  if (typeof patch.BootSourceOverrideTarget === "string") out.target = patch.BootSourceOverrideTarget;
  if (typeof patch.BootSourceOverrideMode === "string") out.mode = patch.BootSourceOverrideMode;
  if (patch.HttpBootUri === null) out.httpBootUri = undefined;
  else if (typeof patch.HttpBootUri === "string") out.httpBootUri = patch.HttpBootUri;
  return out;
}

function systemBody(c: BmcContext): Record<string, unknown> {
  const { profile: p, paths, state: s } = c;
  const resetAction: Record<string, unknown> = { target: `${paths.system}/Actions/ComputerSystem.Reset` };
  if (p.resetActionInfo) resetAction["@Redfish.ActionInfo"] = paths.resetActionInfo;
  else resetAction["ResetType@Redfish.AllowableValues"] = [...p.resetTypes];
  const progress: Record<string, unknown> = {
    LastState: s.bootProgress.lastState,
    LastStateTime: s.bootProgress.time,
  };
  if (s.bootProgress.lastState === "OEM") progress.OemLastState = s.bootProgress.oemLastState;
  const body: Record<string, unknown> = {
    "@odata.type": "#ComputerSystem.v1_27_0.ComputerSystem",
    "@odata.id": paths.system,
    Id: p.systemId,
    Name: p.name === "bluefield" ? "Bluefield" : `DPU ${c.name}`,
    SystemType: "DPU",
    Manufacturer: p.manufacturer,
    Model: p.model,
    SerialNumber: c.serial,
    UUID: c.uuid,
    AssetTag: s.assetTag,
    PowerState: s.power,
    LastResetTime: s.lastResetTime,
    Status: {
      State: s.power === "Off" ? "StandbyOffline" : "Enabled",
      Health: s.lastBootError ? "Warning" : "OK",
    },
    Boot: bootBody(c, s.override, true),
    BootProgress: progress,
    EthernetInterfaces: link(`${paths.system}/EthernetInterfaces`),
    Links: { ManagedBy: [link(paths.manager)], Chassis: [link(paths.chassis)] },
    Actions: { "#ComputerSystem.Reset": resetAction },
  };
  if (p.virtualMedia?.under === "system" && paths.vmCollection) body.VirtualMedia = link(paths.vmCollection);
  if (s.mode) body.Oem = { Nvidia: link(`${paths.system}/Oem/Nvidia`) };
  if (p.settingsObject) {
    body["@Redfish.Settings"] = {
      "@odata.type": "#Settings.v1_4_0.Settings",
      SettingsObject: link(paths.settings),
      SupportedApplyTimes: ["OnReset"],
    };
  }
  return body;
}

/** Performs a ResetType on the DPU (shared by ComputerSystem.Reset and the IPU's Manager.Reset). */
export function performReset(c: BmcContext, type: string): void {
  const off = c.state.power === "Off" || c.state.power === "PoweringOff";
  switch (type) {
    case "On":
    case "ForceOn":
      if (off) void c.boot.reset();
      return;
    case "ForceOff":
    case "GracefulShutdown":
      if (c.state.power !== "Off") void c.boot.powerOff();
      return;
    case "PushPowerButton":
      if (off) void c.boot.reset();
      else void c.boot.powerOff();
      return;
    case "Nmi":
      return;
    default:
      // GracefulRestart, ForceRestart, PowerCycle, FullPowerCycle: restart (from Off it simply powers on).
      void c.boot.reset();
  }
}

/** Systems collection, the DPU system (Boot, BootProgress, Reset), Settings, ActionInfo, EthernetInterfaces. */
export function registerSystems(r: Router, c: BmcContext): void {
  const { profile: p, paths, state: s } = c;
  r.add(paths.systems, {
    GET: () => ({
      status: 200,
      body: collection("ComputerSystemCollection", paths.systems, "Computer System Collection", [
        paths.system,
      ]),
    }),
  });
  r.add(paths.system, {
    GET: () => ({ status: 200, body: systemBody(c) }),
    PATCH: ({ body, current }) => {
      const spec: PatchSpec = p.settingsObject
        ? { AssetTag: { kind: "string" } }
        : { AssetTag: { kind: "string" }, Boot: { kind: "object", fields: bootSpec(c) } };
      const patch = validatePatch(body, spec, current);
      if (typeof patch.AssetTag === "string") s.assetTag = patch.AssetTag;
      if (patch.Boot && typeof patch.Boot === "object") {
        s.override = { ...s.override, ...mergeBoot(s.override, patch.Boot as Record<string, unknown>) };
      }
      return { status: 200, body: systemBody(c) };
    },
  });
  if (p.settingsObject) {
    const settingsBody = () => ({
      "@odata.type": "#ComputerSystem.v1_27_0.ComputerSystem",
      "@odata.id": paths.settings,
      Id: "Settings",
      Name: `${p.systemId} Pending Settings`,
      Boot: bootBody(c, { ...s.override, ...s.pending }, false),
    });
    r.add(paths.settings, {
      GET: () => ({ status: 200, body: settingsBody() }),
      PATCH: ({ body, current }) => {
        const patch = validatePatch(body, { Boot: { kind: "object", fields: bootSpec(c) } }, current);
        if (patch.Boot && typeof patch.Boot === "object") {
          s.pending = mergeBoot(s.pending ?? {}, patch.Boot as Record<string, unknown>);
        }
        return { status: 200, body: settingsBody() };
      },
    });
  }
  if (p.resetActionInfo) {
    r.add(paths.resetActionInfo, {
      GET: () => ({
        status: 200,
        body: {
          "@odata.type": "#ActionInfo.v1_5_0.ActionInfo",
          "@odata.id": paths.resetActionInfo,
          Id: "ResetActionInfo",
          Name: "Reset Action Info",
          Parameters: [
            { Name: "ResetType", Required: true, DataType: "String", AllowableValues: [...p.resetTypes] },
          ],
        },
      }),
    });
  }
  r.add(`${paths.system}/Actions/ComputerSystem.Reset`, {
    POST: ({ body }) => {
      const action = "ComputerSystem.Reset";
      const rec = actionBody(body, action, { required: ["ResetType"] });
      const type = enumParam(rec, "ResetType", action, p.resetTypes) as string;
      performReset(c, type);
      return actionOk(p.actionStatus);
    },
  });
  const ifaces = `${paths.system}/EthernetInterfaces`;
  r.add(ifaces, {
    GET: () => ({
      status: 200,
      body: collection(
        "EthernetInterfaceCollection",
        ifaces,
        "Ethernet Interface Collection",
        c.backend.ports.map((port) => `${ifaces}/${port.name}`),
      ),
    }),
  });
  r.add(`${ifaces}/:id`, {
    GET: ({ params }) => {
      const port = c.backend.ports.find((x) => x.name === params.id);
      if (!port) throw httpError(404, "ResourceNotFound", ["EthernetInterface", params.id ?? ""]);
      const up = c.backend.running();
      return {
        status: 200,
        body: {
          "@odata.type": "#EthernetInterface.v1_12_4.EthernetInterface",
          "@odata.id": `${ifaces}/${port.name}`,
          Id: port.name,
          Name: port.name === "oob_net0" ? "Out-of-band management port" : `Data port ${port.name}`,
          MACAddress: port.mac,
          PermanentMACAddress: port.mac,
          InterfaceEnabled: true,
          LinkStatus: up ? "LinkUp" : "LinkDown",
          Status: { State: "Enabled", Health: "OK" },
        },
      };
    },
  });
}
