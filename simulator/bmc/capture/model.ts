import type { CaptureBmcProfileName, QuirkBmcProfileName } from "../../contracts";
import { DMTF_RESETS, type ProfileDef, type ProfilePaths, pathsOf } from "../profiles";
import { CAPTURE_PROFILES, type CaptureProfileSpec } from "./catalog";
import { type CaptureTree, loadCaptureTree } from "./load-tree";
import { locateCapture } from "./locate";
import { isQuirkProfile, QUIRK_PROFILES, type QuirkSwitches } from "./quirks";
import { applyTreeEdits } from "./tree-edit";

type Json = Record<string, unknown>;

/** The Boot properties the state machine owns (only those a capture shows are served). */
export const BOOT_KEYS = [
  "BootSourceOverrideEnabled",
  "BootSourceOverrideTarget",
  "BootSourceOverrideMode",
  "HttpBootUri",
] as const;

/** A captured ComputerSystem as the state machine sees it. */
export interface SystemModel {
  readonly path: string;
  readonly id: string;
  readonly resetTarget?: string;
  readonly resetTypes: readonly string[];
  /** Owned Boot properties with their allowable values; absent when the capture has no `Boot`. */
  readonly boot?: {
    readonly keys: readonly string[];
    readonly enabled: readonly string[];
    readonly targets: readonly string[];
    readonly modes: readonly string[];
  };
  /** `@Redfish.Settings` SettingsObject path, when captured (Boot changes apply at the next reset). */
  readonly settingsPath?: string;
  /** The Settings object covers the Boot override properties (a `Pending` holding only BootOrder does not). */
  readonly settingsCoversBoot: boolean;
  readonly hasBootProgress: boolean;
}

/** A captured virtual-media slot and how it is driven. */
export interface SlotModel {
  readonly path: string;
  readonly insertTarget?: string;
  readonly ejectTarget?: string;
  /** No InsertMedia action: `Image`/`Inserted` are written by PATCH. */
  readonly patchable: boolean;
  /** Inline `TransferMethod@Redfish.AllowableValues` of InsertMedia, when captured. */
  readonly transferMethods?: readonly string[];
}

/** SimpleUpdate as captured. */
export interface SimpleUpdateModel {
  readonly target: string;
  /** Allowed TransferProtocol values (inline, nested arrays flattened, or from the ActionInfo); undefined: any. */
  readonly protocols?: readonly string[];
  /** Parameter names the ActionInfo lists. */
  readonly params: readonly string[];
  /** Firmware inventory members (SimpleUpdate `Targets` must name one of them). */
  readonly inventory: readonly string[];
  /** The action's `@Redfish.OperationApplyTimeSupport.SupportedValues`; undefined: not advertised. */
  readonly applyTimes?: readonly string[];
}

/** Everything the capture-backed BMC derives from a tree. */
export interface CaptureModel {
  readonly name: CaptureBmcProfileName | QuirkBmcProfileName;
  readonly spec: CaptureProfileSpec;
  readonly tree: CaptureTree;
  /** The ComputerSystem that is the DPU (the one the lab's OS backend boots). */
  readonly dpu: SystemModel;
  readonly systems: readonly SystemModel[];
  readonly managers: readonly {
    readonly path: string;
    readonly resetTarget?: string;
    readonly resetTypes: readonly string[];
  }[];
  readonly slots: readonly SlotModel[];
  /** The CD slot whose media the DPU boots from. */
  readonly bootSlot?: SlotModel;
  readonly simpleUpdate?: SimpleUpdateModel;
  /** A {@link ProfileDef} for the shared machinery (boot controller, sessions, tasks). */
  readonly profile: ProfileDef;
  readonly paths: ProfilePaths;
}

function isRecord(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function strings(v: unknown): string[] | undefined {
  if (!Array.isArray(v)) return undefined;
  return v.flat(3).filter((x): x is string => typeof x === "string");
}

function idOf(v: unknown): string | undefined {
  return isRecord(v) && typeof v["@odata.id"] === "string" ? v["@odata.id"].replace(/\/+$/, "") : undefined;
}

function typeOf(body: Json): string {
  return typeof body["@odata.type"] === "string" ? body["@odata.type"] : "";
}

function members(tree: CaptureTree, path: string): string[] {
  const r = tree.resources.get(path);
  if (r?.kind !== "json") return [];
  const m = r.body.Members;
  return Array.isArray(m) ? m.map(idOf).filter((x): x is string => x !== undefined) : [];
}

function json(tree: CaptureTree, path: string | undefined): Json | undefined {
  const r = path ? tree.resources.get(path) : undefined;
  return r?.kind === "json" ? (r.body as Json) : undefined;
}

/** Allowable values of one parameter: inline `<p>@Redfish.AllowableValues`, else the action's ActionInfo. */
function allowable(tree: CaptureTree, action: Json, param: string): string[] | undefined {
  const inline = strings(action[`${param}@Redfish.AllowableValues`]);
  if (inline) return inline;
  const info = json(
    tree,
    typeof action["@Redfish.ActionInfo"] === "string" ? action["@Redfish.ActionInfo"] : undefined,
  );
  const params = Array.isArray(info?.Parameters) ? info.Parameters : [];
  const p = params.find((x): x is Json => isRecord(x) && x.Name === param);
  return p ? strings(p.AllowableValues) : undefined;
}

function systemModel(tree: CaptureTree, path: string, body: Json): SystemModel {
  const actions = isRecord(body.Actions) ? body.Actions : {};
  const reset = isRecord(actions["#ComputerSystem.Reset"]) ? actions["#ComputerSystem.Reset"] : undefined;
  const b = isRecord(body.Boot) ? body.Boot : undefined;
  const settings = isRecord(body["@Redfish.Settings"])
    ? idOf(body["@Redfish.Settings"].SettingsObject)
    : undefined;
  return {
    path,
    id: typeof body.Id === "string" ? body.Id : (path.split("/").pop() ?? ""),
    ...(typeof reset?.target === "string" ? { resetTarget: reset.target } : {}),
    resetTypes: (reset && allowable(tree, reset, "ResetType")) ?? DMTF_RESETS, // where a capture lists none
    ...(b
      ? {
          boot: {
            keys: BOOT_KEYS.filter((k) => Object.hasOwn(b, k)),
            enabled: strings(b["BootSourceOverrideEnabled@Redfish.AllowableValues"]) ?? [
              "Disabled",
              "Once",
              "Continuous",
            ],
            targets: strings(b["BootSourceOverrideTarget@Redfish.AllowableValues"]) ?? [
              "None",
              "Pxe",
              "Cd",
              "Usb",
              "Hdd",
              "BiosSetup",
            ],
            modes: strings(b["BootSourceOverrideMode@Redfish.AllowableValues"]) ?? ["UEFI", "Legacy"],
          },
        }
      : {}),
    ...(settings ? { settingsPath: settings } : {}),
    settingsCoversBoot: (() => {
      const sb = json(tree, settings)?.Boot;
      return isRecord(sb) && BOOT_KEYS.some((k) => k !== "HttpBootUri" && Object.hasOwn(sb, k));
    })(),
    hasBootProgress: isRecord(body.BootProgress),
  };
}

/** Builds the model of a capture profile (reads the tree on first use; throws where the capture is missing). */
const quirkTrees = new Map<string, CaptureTree>();

/** Quirk timings a caller may shorten (tests) or lengthen. */
export interface QuirkTiming {
  /** Overrides the emulator's late power changes: a fixed delay in ms. */
  readonly powerDelayMs?: number;
  /** Overrides how long BootProgress stays stale after a reset, in ms. */
  readonly staleBootProgressMs?: number;
}

function specOf(name: CaptureBmcProfileName | QuirkBmcProfileName, timing?: QuirkTiming): CaptureProfileSpec {
  if (!isQuirkProfile(name)) return CAPTURE_PROFILES[name];
  const q = QUIRK_PROFILES[name];
  const sw: QuirkSwitches = {
    ...q.switches,
    ...(q.switches.powerDelayMs && timing?.powerDelayMs !== undefined
      ? { powerDelayMs: [timing.powerDelayMs, timing.powerDelayMs] as const }
      : {}),
    ...(q.switches.staleBootProgressMs !== undefined && timing?.staleBootProgressMs !== undefined
      ? { staleBootProgressMs: timing.staleBootProgressMs }
      : {}),
  };
  return { ...CAPTURE_PROFILES[q.base], note: q.note, quirks: sw };
}

/** Builds the model of a capture or quirk profile (reads the tree on first use; throws where the capture is missing). */
export function loadCaptureModel(
  name: CaptureBmcProfileName | QuirkBmcProfileName,
  mockupsDir?: string,
  timing?: QuirkTiming,
): CaptureModel {
  const spec = specOf(name, timing);
  const base = loadCaptureTree(locateCapture(spec.capture, mockupsDir));
  let tree = base;
  if (isQuirkProfile(name)) {
    const key = `${name}\u0000${base.dir}`;
    tree = quirkTrees.get(key) ?? applyTreeEdits(base, QUIRK_PROFILES[name].edits);
    quirkTrees.set(key, tree);
  }
  const root = json(tree, "/redfish/v1") ?? {};
  const systems: SystemModel[] = [];
  for (const p of members(tree, idOf(root.Systems) ?? "/redfish/v1/Systems")) {
    const body = json(tree, p);
    if (body) systems.push(systemModel(tree, p, body));
  }
  const dpu = systems.find((s) => s.boot && s.resetTarget) ?? systems[0];
  if (!dpu) throw new Error(`capture ${tree.dir}: no ComputerSystem to drive`);
  const managers = members(tree, idOf(root.Managers) ?? "/redfish/v1/Managers").map((path) => {
    const actions = json(tree, path)?.Actions;
    const reset =
      isRecord(actions) && isRecord(actions["#Manager.Reset"]) ? actions["#Manager.Reset"] : undefined;
    return {
      path,
      ...(typeof reset?.target === "string" ? { resetTarget: reset.target } : {}),
      resetTypes: (reset && allowable(tree, reset, "ResetType")) ?? ["GracefulRestart", "ForceRestart"],
    };
  });
  const slots: SlotModel[] = [];
  for (const [path, r] of tree.resources) {
    if (
      r.kind !== "json" ||
      !typeOf(r.body as Json).startsWith("#VirtualMedia.") ||
      typeOf(r.body as Json).includes("Collection")
    )
      continue;
    const actions = isRecord(r.body.Actions) ? r.body.Actions : {};
    const ins = isRecord(actions["#VirtualMedia.InsertMedia"])
      ? actions["#VirtualMedia.InsertMedia"]
      : undefined;
    const ej = isRecord(actions["#VirtualMedia.EjectMedia"])
      ? actions["#VirtualMedia.EjectMedia"]
      : undefined;
    const methods = ins ? allowable(tree, ins, "TransferMethod") : undefined;
    slots.push({
      path,
      ...(typeof ins?.target === "string" ? { insertTarget: ins.target } : {}),
      ...(typeof ej?.target === "string" ? { ejectTarget: ej.target } : {}),
      patchable: ins === undefined,
      ...(methods ? { transferMethods: methods } : {}),
    });
  }
  const isCd = (s: SlotModel) =>
    strings(json(tree, s.path)?.MediaTypes)?.some((t) => t === "CD" || t === "DVD") ?? false;
  const bootSlot = slots.find((s) => isCd(s) && s.path.startsWith(`${dpu.path}/`)) ?? slots.find(isCd);
  let simpleUpdate: SimpleUpdateModel | undefined;
  const usPath = idOf(root.UpdateService);
  const us = json(tree, usPath);
  const su =
    isRecord(us?.Actions) && isRecord(us.Actions["#UpdateService.SimpleUpdate"])
      ? us.Actions["#UpdateService.SimpleUpdate"]
      : undefined;
  if (us && su && typeof su.target === "string") {
    const info = json(
      tree,
      typeof su["@Redfish.ActionInfo"] === "string" ? su["@Redfish.ActionInfo"] : undefined,
    );
    const protocols = allowable(tree, su, "TransferProtocol");
    simpleUpdate = {
      target: su.target,
      ...(protocols ? { protocols } : {}),
      params: (Array.isArray(info?.Parameters) ? info.Parameters : [])
        .map((p) => (isRecord(p) && typeof p.Name === "string" ? p.Name : ""))
        .filter((n) => n !== ""),
      inventory: members(tree, idOf(us.FirmwareInventory) ?? ""),
      ...applyTimesOf(su),
    };
  }
  const sysBody = json(tree, dpu.path) ?? {};
  const managedBy =
    isRecord(sysBody.Links) && Array.isArray(sysBody.Links.ManagedBy)
      ? idOf(sysBody.Links.ManagedBy[0])
      : undefined;
  const chassisOf =
    isRecord(sysBody.Links) && Array.isArray(sysBody.Links.Chassis)
      ? idOf(sysBody.Links.Chassis[0])
      : undefined;
  const managerPath = managedBy ?? managers[0]?.path ?? "/redfish/v1/Managers/BMC";
  const lastSeg = (p: string) => p.split("/").pop() ?? "";
  const vmUnder = bootSlot
    ? bootSlot.path.startsWith("/redfish/v1/Systems/")
      ? "system"
      : "manager"
    : undefined;
  const str = (v: unknown, d: string) => (typeof v === "string" ? v : d);
  const profile: ProfileDef = {
    name,
    note: spec.note,
    vendor: str(root.Vendor, "DMTF mockup"),
    product: str(root.Product, spec.capture),
    systemId: dpu.id,
    managerId: lastSeg(managerPath),
    chassisId: lastSeg(chassisOf ?? "/redfish/v1/Chassis/1"),
    manufacturer: str(sysBody.Manufacturer, ""),
    model: str(sysBody.Model, ""),
    managerFirmware: str(json(tree, managerPath)?.FirmwareVersion, ""),
    ...(bootSlot && vmUnder
      ? {
          virtualMedia: {
            under: vmUnder,
            id: lastSeg(bootSlot.path),
            uploadOnly: false,
            patchable: bootSlot.patchable,
          },
        }
      : {}),
    bootTargets: dpu.boot?.targets ?? [],
    bootModes: dpu.boot?.modes ?? [],
    settingsObject: dpu.settingsPath !== undefined && dpu.settingsCoversBoot,
    oemBootProgress: spec.oemBootProgress,
    resetTypes: dpu.resetTypes,
    resetActionInfo: false,
    managerResetTypes: managers.find((m) => m.path === managerPath)?.resetTypes ?? [],
    managerResetRestartsDpu: false,
    updateInstallsNow: spec.updateInstallsNow,
    osInventoryId: "DPU_OS",
    actionStatus: spec.actionStatus,
  };
  const paths: ProfilePaths = {
    ...pathsOf(profile),
    systems: idOf(root.Systems) ?? "/redfish/v1/Systems",
    system: dpu.path,
    settings: dpu.settingsPath ?? `${dpu.path}/Settings`,
    manager: managerPath,
    ...(bootSlot
      ? { vm: bootSlot.path, vmCollection: bootSlot.path.slice(0, bootSlot.path.lastIndexOf("/")) }
      : {}),
  };
  return {
    name,
    spec,
    tree,
    dpu,
    systems,
    managers,
    slots,
    ...(bootSlot ? { bootSlot } : {}),
    ...(simpleUpdate ? { simpleUpdate } : {}),
    profile,
    paths,
  };
}

/** `@Redfish.OperationApplyTimeSupport.SupportedValues` of a captured action, where it advertises them. */
function applyTimesOf(action: Json): { applyTimes?: string[] } {
  const support = action["@Redfish.OperationApplyTimeSupport"];
  const values = isRecord(support) ? strings(support.SupportedValues) : undefined;
  return values ? { applyTimes: values } : {};
}
