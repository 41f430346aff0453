import { DpuError } from "../errors/dpu-error";
import { isRedfishHttpError, RedfishHttpError } from "../errors/redfish-http-error";
import { pollUntil } from "../lifecycle/wait";
import type { RedfishClient } from "./client";
import { type BmcCapabilities, parseSlot, type VirtualMediaSlot } from "./discovery";
import type { Json } from "./messages";
import { exchangeScpKeys } from "./scp-key-exchange";
import { waitForTask } from "./tasks";

/** Power states as DpuHost reports them (transitional states folded as ironic does). */
export type PowerState = "On" | "Off";

/** What a GET of the ComputerSystem tells about the DPU. */
export interface SystemState {
  readonly powerState: PowerState;
  readonly rawPowerState: string;
  /** `LastState`, or `OemLastState` when LastState is OEM; undefined when the BMC has no BootProgress. */
  readonly bootProgress?: string;
  /** `BootProgress.LastStateTime`: changes with every transition, so a new boot can be told from the old one. */
  readonly bootProgressTime?: string;
  readonly override: { readonly enabled: string; readonly target: string; readonly httpBootUri?: string };
  readonly manufacturer?: string;
  readonly model?: string;
  readonly serialNumber?: string;
  readonly uuid?: string;
}

/** Common options of long operations. */
export interface OpOptions {
  readonly timeoutMs: number;
  /** Credentials of the image server, sent with the insert / install request (`image.username`/`password`). */
  readonly imageCredentials?: { readonly username: string; readonly password?: string };
  /**
   * The SCP server's host key for an `scp://` SimpleUpdate on a BMC with NVIDIA's PublicKeyExchange
   * (`image.scpHostKey`: a public key line, or a `SHA256:` fingerprint); absent: read from the server (TOFU).
   */
  readonly scpHostKey?: string;
  /**
   * SimpleUpdate: `@Redfish.OperationApplyTime` sent with the action (DSP0266 "Operation apply time"), e.g.
   * `OnReset` to stage the update until the next reset; absent: the BMC's default (Immediate).
   */
  readonly applyTime?: string;
  /** Eject only when the slot holds this image (another image in the slot is someone else's: left alone). */
  readonly onlyImage?: string;
  readonly pollIntervalMs?: number;
  readonly onProgress?: (line: string) => void;
  /**
   * The slot passed in was read moments ago in this run (discovery, or the re-read that ended an eject), so its
   * state and actions are current: insert / eject use them without reading the slot again. Slots whose actions
   * change with their state (Supermicro-like: EjectMedia only while inserted) are re-read after every change,
   * so they stay current. Default false (re-read first).
   */
  readonly fresh?: boolean;
  /**
   * Poll the slot after the insert (eject) until it shows the image (is empty); default true. insertMedia:
   * false when the caller reads the slot itself later ({@link mediaShows} right after the reset). ejectMedia:
   * false when an insert follows at once (it is refused while media is still in, and then re-reads the slot).
   */
  readonly verify?: boolean;
}

function s(v: unknown): string | undefined {
  return typeof v === "string" && v.trim() !== "" ? v.trim() : undefined;
}

/** Normalises a ComputerSystem body. */
export function parseSystem(body: Json): SystemState {
  const raw = s(body.PowerState) ?? "Unknown";
  const bp = (body.BootProgress ?? undefined) as Json | undefined;
  const last = s(bp?.LastState);
  const progress = last === "OEM" ? (s(bp?.OemLastState) ?? "OEM") : last;
  const boot = (body.Boot ?? {}) as Json;
  return {
    powerState: raw === "On" || raw === "PoweringOn" ? "On" : "Off",
    rawPowerState: raw,
    ...(progress !== undefined ? { bootProgress: progress } : {}),
    ...(s(bp?.LastStateTime) ? { bootProgressTime: s(bp?.LastStateTime) as string } : {}),
    override: {
      enabled: s(boot.BootSourceOverrideEnabled) ?? "Disabled",
      target: s(boot.BootSourceOverrideTarget) ?? "None",
      ...(s(boot.HttpBootUri) ? { httpBootUri: s(boot.HttpBootUri) as string } : {}),
    },
    ...(s(body.Manufacturer) ? { manufacturer: s(body.Manufacturer) as string } : {}),
    ...(s(body.Model) ? { model: s(body.Model) as string } : {}),
    ...(s(body.SerialNumber) ? { serialNumber: s(body.SerialNumber) as string } : {}),
    ...(s(body.UUID) ? { uuid: s(body.UUID) as string } : {}),
  };
}

/** True when BootProgress says the OS runs (`OSRunning`, BlueField `OsIsRunning`). */
export function osRunning(progress: string | undefined): boolean {
  return progress === "OSRunning" || progress === "OsIsRunning";
}

/** GET the system; `undefined` when it no longer exists (404). */
export async function readSystem(
  client: RedfishClient,
  systemPath: string,
): Promise<SystemState | undefined> {
  try {
    return parseSystem((await client.get(systemPath, { action: "read system" })).body);
  } catch (err) {
    if (isRedfishHttpError(err) && err.status === 404) return undefined;
    throw err;
  }
}

/** Reads a virtual-media slot's `Inserted` and `Image`. */
export async function readSlot(
  client: RedfishClient,
  slotPath: string,
): Promise<{ inserted: boolean; image?: string }> {
  const b = (await client.get(slotPath, { action: "read virtual media" })).body;
  const image = s(b.Image);
  return { inserted: b.Inserted === true, ...(image ? { image } : {}) };
}

/**
 * Re-reads a slot with its current actions: some BMCs offer `EjectMedia` only while media is inserted (and
 * `InsertMedia` only while empty), so targets cached from discovery may be stale.
 */
export async function readSlotFresh(
  client: RedfishClient,
  slot: VirtualMediaSlot,
): Promise<VirtualMediaSlot> {
  const res = await client.get(slot.path, { action: "read virtual media" });
  return parseSlot(res.body, slot.path, slot.under, res.headers.allow);
}

/**
 * Same image URL, compared parsed (scheme/host case, default ports), as community.general does. Userinfo is
 * ignored: BMCs commonly show the image URL without its credentials.
 */
export function sameImage(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b) return false;
  try {
    const x = new URL(a);
    const y = new URL(b);
    for (const u of [x, y]) {
      u.username = "";
      u.password = "";
    }
    return x.href === y.href;
  } catch {
    return a === b;
  }
}

/**
 * Ejects the slot (action with `{}`, or PATCH `Image: null, Inserted: false`) and waits until the BMC reports it
 * empty: some BMCs show stale media for a moment. Ejecting an empty slot is not an error.
 */
export async function ejectMedia(
  client: RedfishClient,
  slot: VirtualMediaSlot,
  opts: OpOptions,
): Promise<VirtualMediaSlot> {
  const before = opts.fresh ? slot : await readSlotFresh(client, slot);
  if (!before.inserted) return before;
  const ejected = { ...before, inserted: false, image: undefined };
  if (opts.onlyImage !== undefined && before.image !== undefined) {
    const only = opts.onlyImage;
    if (!sameImage(before.image, only) && !only.endsWith(`/${before.image}`)) return before;
  }
  try {
    if (before.ejectTarget) {
      const res = await client.post(
        before.ejectTarget,
        {},
        { action: "eject virtual media", idempotent: true },
      );
      await waitForTask(client, res, { action: "eject virtual media", timeoutMs: opts.timeoutMs });
    } else {
      await client.patch(slot.path, { Image: null, Inserted: false }, { action: "eject virtual media" });
    }
  } catch (err) {
    // Already empty (a concurrent eject, or the BMC refuses ejecting nothing): the re-read below decides.
    if (!(isRedfishHttpError(err) && (err.status === 400 || err.status === 409))) throw err;
  }
  // Not proved here: an insert that follows is refused (409) while media is still in, and re-reads then.
  if (opts.verify === false) return ejected;
  // The re-read that proves the eject also tells the slot's actions now (returned for an insert that follows).
  return pollUntil(
    async () => {
      const st = await readSlotFresh(client, slot);
      return {
        done: !st.inserted,
        value: st,
        status: st.inserted ? `still inserted: ${st.image ?? "?"}` : "empty",
      };
    },
    {
      what: `virtual media ${slot.id} to be empty`,
      timeoutMs: Math.min(opts.timeoutMs, 60_000),
      intervalMs: opts.pollIntervalMs ?? 500,
    },
  );
}

function mentions(err: RedfishHttpError, name: string): boolean {
  return err.messages.some(
    (m) => m.relatedProperties?.some((p) => p.includes(name)) || m.message.includes(name),
  );
}

/**
 * Inserts `url` into the slot and verifies it by GET (unless `opts.verify` is false). With an InsertMedia action,
 * the body grows as the BMC asks (sushy's escalation, at most 5 attempts): `{Image}`; then
 * `TransferProtocolType` from the URL scheme; then `TransferMethod` (`Stream`, or `Upload` when that is the only
 * accepted value); then `UserName`/`Password` `"none"` (BMCs that insist on credentials even for anonymous
 * HTTP). 202 answers are followed to the task end. Without the action, PATCHes `Image`, `Inserted`,
 * `WriteProtected`. A slot passed as current (`opts.fresh`: from discovery, or kept in state) whose target or
 * state the BMC refuses (404, 405, 409: the target moved, or media is in the slot) is read now, emptied, and the
 * insert sent once more with the targets the BMC offers now.
 */
export async function insertMedia(
  client: RedfishClient,
  cached: VirtualMediaSlot,
  url: string,
  opts: OpOptions,
): Promise<void> {
  const action = `insert virtual media ${cached.id}`;
  // The targets as the BMC offers them now (they may differ from discovery's), unless read moments ago.
  let slot = opts.fresh ? cached : await readSlotFresh(client, cached);
  try {
    await sendInsert(client, slot, url, opts, action);
  } catch (err) {
    if (!opts.fresh || !isRedfishHttpError(err) || ![404, 405, 409].includes(err.status)) throw err;
    const now = await readSlotFresh(client, cached);
    slot = now.inserted ? await ejectMedia(client, now, { timeoutMs: opts.timeoutMs, fresh: true }) : now;
    await sendInsert(client, slot, url, opts, action);
  }
  if (opts.verify === false) return;
  const st = await pollUntil(
    async () => {
      const cur = await readSlot(client, slot.path);
      return {
        done: cur.inserted,
        value: cur,
        status: cur.inserted ? `inserted ${cur.image ?? ""}` : "not inserted yet",
      };
    },
    {
      what: `virtual media ${slot.id} to show the image`,
      timeoutMs: Math.min(opts.timeoutMs, 120_000),
      intervalMs: opts.pollIntervalMs ?? 500,
    },
  );
  if (!showsImage(st, url)) {
    throw new DpuError(
      "DPU_REDFISH_VERIFY",
      `${action} on BMC ${client.origin}: the slot shows ${st.image}, not ${url}`,
    );
  }
}

/** One insert request (the escalation described at {@link insertMedia}), followed to its task's end. */
async function sendInsert(
  client: RedfishClient,
  slot: VirtualMediaSlot,
  url: string,
  opts: OpOptions,
  action: string,
): Promise<void> {
  if (!slot.insertTarget) {
    if (!slot.patchable) {
      throw new DpuError(
        "DPU_REDFISH_UNSUPPORTED",
        `${action} on BMC ${client.origin}: the slot has no InsertMedia action and refuses PATCH`,
      );
    }
    await client.patch(
      slot.path,
      { Image: url, Inserted: true, WriteProtected: true },
      { action, ...(opts.fresh ? { conflictIsFinal: true } : {}) },
    );
    return;
  }
  const body: Json = { Image: url };
  if (opts.imageCredentials) {
    body.UserName = opts.imageCredentials.username;
    if (opts.imageCredentials.password !== undefined) body.Password = opts.imageCredentials.password;
  }
  const methods = slot.transferMethods ?? [];
  if (methods.length > 0 && !methods.includes("Stream")) body.TransferMethod = methods[0];
  const protocol = new URL(url).protocol.replace(":", "").toUpperCase();
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await client.post(slot.insertTarget, body, {
        action,
        idempotent: true,
        ...(opts.fresh ? { conflictIsFinal: true } : {}),
      });
      await waitForTask(client, res, {
        action,
        timeoutMs: opts.timeoutMs,
        ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
      });
      return;
    } catch (err) {
      if (!isRedfishHttpError(err) || err.status !== 400 || attempt >= 5) throw err;
      const before = JSON.stringify(body);
      if (mentions(err, "TransferMethod") && body.TransferMethod === "Stream") body.TransferMethod = "Upload";
      else if (mentions(err, "TransferMethod") && body.TransferMethod === undefined)
        body.TransferMethod = "Stream";
      else if (mentions(err, "TransferProtocolType") && body.TransferProtocolType === undefined)
        body.TransferProtocolType = protocol;
      else if (mentions(err, "UserName") || mentions(err, "Password")) {
        body.UserName = "none";
        body.Password = "none";
      } else if (body.TransferProtocolType === undefined) body.TransferProtocolType = protocol;
      else if (body.TransferMethod === undefined) body.TransferMethod = "Stream";
      else if (body.UserName === undefined) {
        body.UserName = "none";
        body.Password = "none";
      }
      if (JSON.stringify(body) === before) throw err;
    }
  }
}

/**
 * True when a slot state shows `url` inserted (compared parsed; a BMC that shows only the file name, or no
 * image, counts when the slot is inserted).
 */
export function showsImage(
  st: { readonly inserted: boolean; readonly image?: string },
  url: string,
): boolean {
  if (!st.inserted) return false;
  return st.image === undefined || sameImage(st.image, url) || url.endsWith(`/${st.image}`);
}

/**
 * One GET of the slot: whether it shows `url` inserted. Read right after the reset, it is the evidence that the
 * media was in the slot when the firmware chose its boot device (seconds later); it also catches a BMC that
 * answered the insert without attaching anything.
 */
export async function mediaShows(
  client: RedfishClient,
  slotPath: string,
  url: string,
): Promise<{ readonly shows: boolean; readonly inserted: boolean; readonly image?: string }> {
  const st = await readSlot(client, slotPath);
  return { shows: showsImage(st, url), ...st };
}

/** Where boot-override PATCHes go: the Settings object when the system has one. */
export function bootPath(caps: BmcCapabilities): string {
  return caps.boot.settingsPath ?? caps.systemPath;
}

/**
 * Sets a one-time boot override to `target` (validated against the BMC's allowable values), with `HttpBootUri`
 * for UEFI HTTP boot. `Mode: UEFI` is sent only when the BMC lists modes and UEFI is one of them. Returns the
 * system's state when the BMC answered the PATCH with the system (no need to read it again), else undefined.
 */
export async function setBootOnce(
  client: RedfishClient,
  caps: BmcCapabilities,
  target: "Cd" | "UefiHttp",
  httpBootUri?: string,
): Promise<SystemState | undefined> {
  const action = `set one-time boot to ${target}`;
  if (!caps.boot.present) {
    throw new DpuError(
      "DPU_REDFISH_UNSUPPORTED",
      `${action} on BMC ${client.origin}: system ${caps.systemId} has no Boot object, so no boot override can be set; choose another image.method or set bmc.systemId`,
    );
  }
  if (target === "UefiHttp" && !caps.boot.httpBootUri) {
    throw new DpuError(
      "DPU_REDFISH_UNSUPPORTED",
      `${action} on BMC ${client.origin}: system ${caps.systemId} has no Boot.HttpBootUri, so the image URL cannot be set; choose another image.method`,
    );
  }
  if (caps.boot.targets.length > 0 && !caps.boot.targets.includes(target)) {
    throw new DpuError(
      "DPU_REDFISH_UNSUPPORTED",
      `${action} on BMC ${client.origin}: the BMC does not offer boot target ${target} (allowed: ${caps.boot.targets.join(", ")}); choose another image.method`,
    );
  }
  const boot: Json = { BootSourceOverrideTarget: target, BootSourceOverrideEnabled: "Once" };
  if (caps.boot.modes.includes("UEFI")) boot.BootSourceOverrideMode = "UEFI";
  if (httpBootUri !== undefined) boot.HttpBootUri = httpBootUri;
  const res = await client.patch(bootPath(caps), { Boot: boot }, { action });
  return systemOfPatch(res.body, bootPath(caps) === caps.systemPath ? caps.systemPath : undefined);
}

/**
 * The system state in a PATCH answer, when the BMC answered with the system's representation (DSP0266: a
 * successful PATCH may answer 200 with the resource): the power state and BootProgress as of the override.
 * Undefined for 204, a message body (iDRAC, iLO), or a Settings object.
 */
function systemOfPatch(body: Json, systemPath: string | undefined): SystemState | undefined {
  const id = typeof body["@odata.id"] === "string" ? body["@odata.id"].replace(/\/+$/, "") : undefined;
  if (!systemPath || id !== systemPath.replace(/\/+$/, "") || typeof body.PowerState !== "string")
    return undefined;
  return parseSystem(body);
}

/** The boot-override target a method sets (undefined: the method sets none). */
export function overrideTargetOf(method: string): "Cd" | "UefiHttp" | undefined {
  return method === "virtualMedia" ? "Cd" : method === "uefiHttp" ? "UefiHttp" : undefined;
}

/** True when the system's boot override is the one-time override `method` sets (so this resource set it). */
export function overrideIsOurs(sys: SystemState, method: string): boolean {
  const target = overrideTargetOf(method);
  return target !== undefined && sys.override.enabled !== "Disabled" && sys.override.target === target;
}

/** Clears the boot override (Disabled / None). */
export async function clearBootOverride(client: RedfishClient, caps: BmcCapabilities): Promise<void> {
  await client.patch(
    bootPath(caps),
    { Boot: { BootSourceOverrideEnabled: "Disabled", BootSourceOverrideTarget: "None" } },
    { action: "clear boot override" },
  );
}

const PREFERENCES: Record<"restart" | "on" | "off", readonly string[]> = {
  restart: ["ForceRestart", "GracefulRestart", "PowerCycle"],
  on: ["On", "ForceOn", "PushPowerButton"],
  off: ["ForceOff", "GracefulShutdown", "PushPowerButton"],
};

/**
 * The manager's reset action: as discovered, else read from the system's manager now (discovery skips the manager
 * where nothing else needs it: a kept slot path, or minimal reads), with its inline ResetType values.
 */
async function managerResetOf(
  client: RedfishClient,
  caps: BmcCapabilities,
): Promise<{ target: string; types: readonly string[] } | undefined> {
  if (caps.managerResetTarget) return { target: caps.managerResetTarget, types: caps.managerResetTypes };
  if (!caps.managerPath) return undefined;
  const manager = (await client.get(caps.managerPath, { action: "read manager" })).body;
  const reset = (manager.Actions as Json | undefined)?.["#Manager.Reset"] as Json | undefined;
  if (typeof reset?.target !== "string") return undefined;
  const types = reset["ResetType@Redfish.AllowableValues"];
  return {
    target: reset.target,
    types: Array.isArray(types) ? types.filter((t): t is string => typeof t === "string") : [],
  };
}

/**
 * Resets the DPU with the type that fits: `want` restart of a powered-off DPU becomes power-on. The first
 * preference in the BMC's allowable values is used; without any, the Manager reset when it resets the DPU.
 */
export async function resetSystem(
  client: RedfishClient,
  caps: BmcCapabilities,
  current: PowerState,
  want: "restart" | "on" | "off",
): Promise<string> {
  const eff = want === "restart" && current === "Off" ? "on" : want;
  const prefs = PREFERENCES[eff];
  const allowed = caps.reset.types;
  const pick = allowed.length === 0 ? prefs[0] : prefs.find((t) => allowed.includes(t));
  const action = `${eff === "restart" ? "restart" : `power ${eff}`} the DPU`;
  if (pick && caps.reset.target) {
    try {
      await client.post(caps.reset.target, { ResetType: pick }, { action: `${action} (${pick})` });
    } catch (err) {
      // ironic: 409 right after a power change; the state may already be right.
      if (!(isRedfishHttpError(err) && err.status === 409 && eff !== "restart")) throw err;
    }
    return pick;
  }
  const managerReset = eff !== "off" ? await managerResetOf(client, caps) : undefined;
  if (managerReset) {
    const mt =
      ["ForceRestart", "GracefulRestart"].find((t) => managerReset.types.includes(t)) ?? "ForceRestart";
    await client.post(
      managerReset.target,
      { ResetType: mt },
      { action: `${action} through the manager (${mt})` },
    );
    return `Manager.${mt}`;
  }
  throw new RedfishHttpError({
    action,
    bmc: client.origin,
    method: "POST",
    path: caps.reset.target ?? caps.systemPath,
    status: 0,
    detail: `no suitable ResetType; the BMC allows ${allowed.join(", ") || "none"}`,
    retryable: false,
  });
}

/** The URL scheme as a Redfish TransferProtocol (`https://…` → `HTTPS`). */
export function transferProtocolOf(url: string): string {
  return new URL(url).protocol.replace(":", "").toUpperCase();
}

/**
 * Why SimpleUpdate cannot fetch `url` on this BMC (its TransferProtocol is not one the BMC allows), or undefined.
 * Checked before any request that changes state.
 */
export function simpleUpdateRefusal(caps: BmcCapabilities, url: string): string | undefined {
  const allowed = caps.update.transferProtocols;
  const scheme = transferProtocolOf(url);
  if (allowed.length === 0 || allowed.includes(scheme)) return undefined;
  return `SimpleUpdate on this BMC allows TransferProtocol ${allowed.join(", ")} only, not ${scheme}; serve the image over ${allowed
    .map((p) => `${p.toLowerCase()}://`)
    .join(" or ")} (image.url) or choose another image.method`;
}

/**
 * The SimpleUpdate source parameters for `url`. HTTP(S) URLs go as they are; `scp://` and `sftp://` URLs go the
 * way SCP-only BMCs (BlueField) take them: `ImageURI` as `host/path` without scheme or credentials,
 * `TransferProtocol` SCP/SFTP, and the URL's user and password as `Username` / `Password`.
 */
export function simpleUpdateSource(url: string, creds?: OpOptions["imageCredentials"]): Json {
  const u = new URL(url);
  const protocol = transferProtocolOf(url);
  const user = creds?.username ?? (u.username ? decodeURIComponent(u.username) : undefined);
  const pass = creds ? creds.password : u.password ? decodeURIComponent(u.password) : undefined;
  const auth = { ...(user ? { Username: user } : {}), ...(pass ? { Password: pass } : {}) };
  if (protocol !== "SCP" && protocol !== "SFTP")
    return { ImageURI: url, TransferProtocol: protocol, ...(creds ? auth : {}) };
  return { ImageURI: `${u.host}${u.pathname}`, TransferProtocol: protocol, ...auth };
}

/**
 * Installs an image with `UpdateService.SimpleUpdate` and follows the task. `ImageURI` keeps its scheme, with
 * `TransferProtocol` set from it as well (ignored by BMCs when the URI has a scheme).
 */
export async function simpleUpdate(
  client: RedfishClient,
  caps: BmcCapabilities,
  url: string,
  target: string | undefined,
  opts: OpOptions,
): Promise<void> {
  const action = "install image via UpdateService.SimpleUpdate";
  if (!caps.update.simpleUpdateTarget) {
    throw new DpuError(
      "DPU_REDFISH_UNSUPPORTED",
      `${action} on BMC ${client.origin}: the BMC has no SimpleUpdate action`,
    );
  }
  const refusal = simpleUpdateRefusal(caps, url);
  if (refusal) throw new DpuError("DPU_REDFISH_UNSUPPORTED", `${action} on BMC ${client.origin}: ${refusal}`);
  const targets = target ? [target] : caps.update.osTargets.slice(0, 1);
  const body: Json = {
    ...simpleUpdateSource(url, opts.imageCredentials),
    ...(targets.length > 0 ? { Targets: targets } : {}),
    ...(opts.applyTime ? { "@Redfish.OperationApplyTime": opts.applyTime } : {}),
  };
  // SCP on a BlueField BMC: the documented key exchange first; the transfer then authenticates with the BMC's
  // own key, so no password is sent (NVIDIA "Setting Up Secure Connection"; see scp-key-exchange.ts).
  const exchange =
    body.TransferProtocol === "SCP"
      ? await exchangeScpKeys(client, url, {
          timeoutMs: opts.timeoutMs,
          ...(opts.scpHostKey ? { pinned: opts.scpHostKey } : {}),
          ...(typeof body.Username === "string" ? { username: body.Username } : {}),
          ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
          ...(caps.update.scpKeyExchange ? { known: caps.update.scpKeyExchange } : {}),
        })
      : undefined;
  if (exchange && body.Password !== undefined) {
    delete body.Password;
    opts.onProgress?.("image.password not sent: the BMC's SCP transfer authenticates with its own key only");
  }
  const res = await client.post(caps.update.simpleUpdateTarget, body, { action });
  try {
    await waitForTask(client, res, {
      action,
      timeoutMs: opts.timeoutMs,
      ...(opts.pollIntervalMs !== undefined ? { intervalMs: opts.pollIntervalMs } : {}),
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    });
  } catch (e) {
    if (!exchange?.bmcPublicKey || !(e instanceof DpuError)) throw e;
    throw new DpuError(
      e.code,
      `${e.message}; the SCP transfer runs as ${typeof body.Username === "string" ? body.Username : "the BMC's default user"} on ${exchange.serverHost} with the BMC's key: add "${exchange.bmcPublicKey}" to that user's ~/.ssh/authorized_keys there (NVIDIA BlueField BMC "Setting Up Secure Connection")`,
      { cause: e, retryable: e.retryable },
    );
  }
}
