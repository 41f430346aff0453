import { actionBody, actionOk, enumParam } from "../actions";
import type { BmcContext } from "../context";
import { httpError } from "../errors";
import { type FieldSpec, type PatchSpec, validatePatch } from "../patch";
import { mergeBoot, performReset } from "../resources/systems";
import type { BmcState, BootOverride } from "../state";
import type { CaptureModel, SystemModel } from "./model";
import type { CaptureRouter } from "./router";

type Json = Record<string, unknown>;

function isRecord(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A deep copy of a captured body without its captured `@odata.etag` (the dispatcher tags the live body). */
export function liveCopy(body: Readonly<Json>): Json {
  const { "@odata.etag": _tag, ...rest } = structuredClone(body) as Json;
  return rest;
}

function captured(m: CaptureModel, path: string): Json {
  const r = m.tree.resources.get(path);
  return r?.kind === "json" ? (r.body as Json) : {};
}

/** Seeds the DPU's state from its captured ComputerSystem (override, BootProgress, reset time, asset tag). */
export function seedSystemState(m: CaptureModel, s: BmcState): void {
  const body = captured(m, m.dpu.path);
  const boot = isRecord(body.Boot) ? body.Boot : {};
  const str = (v: unknown, d: string) => (typeof v === "string" ? v : d);
  s.override = {
    enabled: str(boot.BootSourceOverrideEnabled, "Disabled"),
    target: str(boot.BootSourceOverrideTarget, "None"),
    mode: str(boot.BootSourceOverrideMode, "UEFI"),
    ...(typeof boot.HttpBootUri === "string" ? { httpBootUri: boot.HttpBootUri } : {}),
  };
  const bp = isRecord(body.BootProgress) ? body.BootProgress : undefined;
  if (bp) {
    s.bootProgress = {
      lastState: str(bp.LastState, "None"),
      ...(typeof bp.OemLastState === "string" ? { oemLastState: bp.OemLastState } : {}),
      time: str(bp.LastStateTime, s.bootProgress.time),
    };
  }
  if (typeof body.LastResetTime === "string") s.lastResetTime = body.LastResetTime;
  if (typeof body.AssetTag === "string") s.assetTag = body.AssetTag;
}

const BOOT_FIELD: Readonly<Record<string, (sys: SystemModel) => FieldSpec>> = {
  BootSourceOverrideEnabled: (sys) => ({ kind: "enum", values: sys.boot?.enabled ?? [] }),
  BootSourceOverrideTarget: (sys) => ({ kind: "enum", values: sys.boot?.targets ?? [] }),
  BootSourceOverrideMode: (sys) => ({ kind: "enum", values: sys.boot?.modes ?? [] }),
  HttpBootUri: () => ({ kind: "string", nullable: true, format: "uri" }),
};

/** Writable Boot properties: the owned ones the capture shows (a property it lacks stays unknown). */
function bootSpec(sys: SystemModel, keys: readonly string[]): PatchSpec {
  const spec: Record<string, FieldSpec> = {};
  for (const k of keys) {
    const f = BOOT_FIELD[k];
    if (f) spec[k] = f(sys);
  }
  return spec;
}

function overlayBoot(boot: Json, keys: readonly string[], o: Partial<BootOverride>): void {
  const values: Record<string, unknown> = {
    BootSourceOverrideEnabled: o.enabled,
    BootSourceOverrideTarget: o.target,
    BootSourceOverrideMode: o.mode,
    HttpBootUri: o.httpBootUri ?? null,
  };
  for (const k of keys) if (values[k] !== undefined) boot[k] = values[k];
}

/**
 * The captured systems with the state machine on top: the DPU system's PowerState, BootProgress (only where
 * captured), LastResetTime, AssetTag and Boot override; its Settings object (only where captured: Boot changes
 * pend until the next reset); ComputerSystem.Reset with the captured ResetType values. Other systems keep a
 * power state of their own (no OS behind them).
 */
export function registerCaptureSystems(r: CaptureRouter, c: BmcContext, m: CaptureModel): void {
  const s = c.state;
  const dpu = m.dpu;
  const otherPower = new Map<string, string>();
  for (const sys of m.systems) {
    const cap = captured(m, sys.path);
    if (sys !== dpu) otherPower.set(sys.path, typeof cap.PowerState === "string" ? cap.PowerState : "On");
  }
  const quirks = m.spec.quirks ?? {};
  /** Quirk: BootProgress as it was before the last reset, shown until `until` (epoch ms). */
  let stale: { until: number; progress: BmcState["bootProgress"] } | undefined;
  const dpuBody = (): Json => {
    const body = liveCopy(captured(m, dpu.path));
    body.PowerState = s.power;
    if (isRecord(body.BootProgress)) {
      const bp = body.BootProgress;
      const progress = stale && Date.now() < stale.until ? stale.progress : s.bootProgress;
      bp.LastState = progress.lastState;
      bp.LastStateTime = progress.time;
      if (progress.lastState === "OEM") bp.OemLastState = progress.oemLastState;
      else delete bp.OemLastState;
    }
    if (Object.hasOwn(body, "LastResetTime")) body.LastResetTime = s.lastResetTime;
    if (Object.hasOwn(body, "AssetTag")) body.AssetTag = s.assetTag;
    if (isRecord(body.Boot) && dpu.boot) overlayBoot(body.Boot, dpu.boot.keys, s.override);
    return body;
  };
  const bootKeys = dpu.boot?.keys ?? [];
  r.overlay.add(dpu.path, {
    GET: () => ({ status: 200, body: dpuBody() }),
    PATCH: ({ body, current }) => {
      const spec: Record<string, FieldSpec> = {};
      if (Object.hasOwn(captured(m, dpu.path), "AssetTag")) spec.AssetTag = { kind: "string" };
      if ((!dpu.settingsPath || !dpu.settingsCoversBoot) && dpu.boot)
        spec.Boot = { kind: "object", fields: bootSpec(dpu, bootKeys) };
      const patch = validatePatch(body, spec, current);
      if (typeof patch.AssetTag === "string") s.assetTag = patch.AssetTag;
      if (isRecord(patch.Boot)) {
        // Quirk (emulator): BootSourceOverrideEnabled is accepted and ignored.
        const { BootSourceOverrideEnabled: _ignored, ...rest } = patch.Boot;
        const change = quirks.ignoreOverrideEnabled ? rest : patch.Boot;
        s.override = { ...s.override, ...mergeBoot(s.override, change) };
      }
      return { status: 200, body: dpuBody() };
    },
  });
  if (dpu.settingsPath && !dpu.settingsCoversBoot && m.tree.resources.has(dpu.settingsPath)) {
    // A `Pending` object that holds only BootOrder (XCC): BootOrder pends there, boot override PATCHes are refused.
    const pendingPath = dpu.settingsPath;
    const cap = captured(m, pendingPath);
    let order: unknown = isRecord(cap.Boot) ? cap.Boot.BootOrder : undefined;
    const view = (): Json => {
      const body = liveCopy(cap);
      if (isRecord(body.Boot) && order !== undefined) body.Boot.BootOrder = order;
      return body;
    };
    r.overlay.add(pendingPath, {
      GET: () => ({ status: 200, body: view() }),
      PATCH: ({ body, current }) => {
        const boot = isRecord(body) && isRecord(body.Boot) ? body.Boot : undefined;
        const { BootOrder: wanted, ...rest } = boot ?? {};
        const others = isRecord(body) ? { ...body, ...(boot ? { Boot: rest } : {}) } : body;
        validatePatch(others, { Boot: { kind: "object", fields: {} } }, current);
        if (wanted !== undefined) {
          if (!Array.isArray(wanted) || wanted.some((x) => typeof x !== "string"))
            throw httpError(
              400,
              "PropertyValueTypeError",
              [JSON.stringify(wanted), "Boot/BootOrder"],
              ["#/Boot/BootOrder"],
            );
          order = wanted;
        }
        return { status: 200, body: view() };
      },
    });
  }
  if (dpu.settingsPath && dpu.settingsCoversBoot && m.tree.resources.has(dpu.settingsPath)) {
    const settingsPath = dpu.settingsPath;
    const settingsCapture = captured(m, settingsPath);
    const keys = isRecord(settingsCapture.Boot)
      ? bootKeys.filter((k) => Object.hasOwn(settingsCapture.Boot as Json, k) || k === "HttpBootUri")
      : bootKeys;
    const settingsBody = (): Json => {
      const body = liveCopy(settingsCapture);
      if (isRecord(body.Boot)) overlayBoot(body.Boot, keys, { ...s.override, ...s.pending });
      return body;
    };
    r.overlay.add(settingsPath, {
      GET: () => ({ status: 200, body: settingsBody() }),
      PATCH: ({ body, current }) => {
        const patch = validatePatch(
          body,
          { Boot: { kind: "object", fields: bootSpec(dpu, bootKeys) } },
          current,
        );
        if (isRecord(patch.Boot)) s.pending = mergeBoot(s.pending ?? {}, patch.Boot);
        return { status: 200, body: settingsBody() };
      },
    });
  }
  for (const sys of m.systems) {
    if (sys !== dpu) {
      // No OS behind it: its Boot override and AssetTag are kept, and change nothing else.
      const cap = captured(m, sys.path);
      const capBoot = isRecord(cap.Boot) ? cap.Boot : {};
      let override: Partial<BootOverride> = {
        enabled: capBoot.BootSourceOverrideEnabled as string | undefined,
        target: capBoot.BootSourceOverrideTarget as string | undefined,
        mode: capBoot.BootSourceOverrideMode as string | undefined,
        httpBootUri: capBoot.HttpBootUri as string | undefined,
      };
      let assetTag = cap.AssetTag;
      const view = (): Json => {
        const body = liveCopy(cap);
        body.PowerState = otherPower.get(sys.path);
        if (Object.hasOwn(body, "AssetTag")) body.AssetTag = assetTag;
        if (isRecord(body.Boot) && sys.boot) overlayBoot(body.Boot, sys.boot.keys, override);
        return body;
      };
      const spec: Record<string, FieldSpec> = {};
      if (Object.hasOwn(cap, "AssetTag")) spec.AssetTag = { kind: "string" };
      if (sys.boot && !sys.settingsPath) spec.Boot = { kind: "object", fields: bootSpec(sys, sys.boot.keys) };
      r.overlay.add(sys.path, {
        GET: () => ({ status: 200, body: view() }),
        PATCH: ({ body, current }) => {
          const patch = validatePatch(body, spec, current);
          if (typeof patch.AssetTag === "string") assetTag = patch.AssetTag;
          if (isRecord(patch.Boot)) override = mergeBoot(override, patch.Boot);
          return { status: 200, body: view() };
        },
      });
    }
    if (!sys.resetTarget) continue;
    r.overlay.add(sys.resetTarget, {
      POST: ({ body }) => {
        const action = "ComputerSystem.Reset";
        const rec = actionBody(body, action, { required: ["ResetType"] });
        const type = enumParam(rec, "ResetType", action, sys.resetTypes) as string;
        if (sys === dpu) {
          if (quirks.staleBootProgressMs)
            stale = { until: Date.now() + quirks.staleBootProgressMs, progress: { ...s.bootProgress } };
          const [lo, hi] = quirks.powerDelayMs ?? [0, 0];
          const delay = lo + Math.random() * (hi - lo);
          if (delay <= 0) performReset(c, type);
          else {
            // Quirk (emulator): the reset is accepted now and applied later.
            const t = setTimeout(() => {
              if (!c.signal.aborted) performReset(c, type);
            }, delay);
            c.signal.addEventListener("abort", () => clearTimeout(t), { once: true });
          }
        } else {
          const on = otherPower.get(sys.path) === "On";
          const off = ["ForceOff", "GracefulShutdown"].includes(type) || (type === "PushPowerButton" && on);
          if (type !== "Nmi") otherPower.set(sys.path, off ? "Off" : "On");
        }
        return actionOk(m.spec.actionStatus);
      },
    });
  }
  for (const mgr of m.managers) {
    if (!mgr.resetTarget) continue;
    r.overlay.add(mgr.resetTarget, {
      POST: ({ body }) => {
        const action = "Manager.Reset";
        const rec = actionBody(body, action, { optional: ["ResetType"] });
        enumParam(rec, "ResetType", action, mgr.resetTypes);
        // A BMC reboot ends every session (the service itself comes back at once in the lab).
        setImmediate(() => c.sessions.clear());
        return actionOk(m.spec.actionStatus);
      },
    });
  }
}
