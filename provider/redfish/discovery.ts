import { DpuError } from "../errors/dpu-error";
import { isRedfishHttpError } from "../errors/redfish-http-error";
import { redact } from "../log";
import type { RedfishClient, RedfishResponse } from "./client";
import type { Json } from "./messages";
import { exchangeTargetOf } from "./scp-key-exchange";

/** How DpuHost gets an image onto a DPU. */
export type BootMethod = "virtualMedia" | "uefiHttp" | "simpleUpdate";

/** A virtual-media slot and how to drive it. */
export interface VirtualMediaSlot {
  readonly path: string;
  readonly id: string;
  readonly mediaTypes: readonly string[];
  /**
   * Where the slot lives (by its path): under the ComputerSystem (≥ v1.13) or a Manager (older, deprecated). A
   * system may link a collection whose slots live under a manager: then `under` is `manager`.
   */
  readonly under: "system" | "manager";
  /** `#VirtualMedia.InsertMedia` target; absent → PATCH `Image`/`Inserted`. */
  readonly insertTarget?: string;
  readonly ejectTarget?: string;
  /** True when the slot can be driven by PATCH (no actions, and `Allow` does not forbid PATCH). */
  readonly patchable: boolean;
  /** `TransferMethod@Redfish.AllowableValues` of the insert action, when advertised. */
  readonly transferMethods?: readonly string[];
  readonly inserted: boolean;
  readonly image?: string;
}

/** What a BMC supports, as far as DpuHost needs to know. Plain JSON (stored in outputs to skip rediscovery). */
export interface BmcCapabilities {
  readonly redfishVersion?: string;
  readonly vendor?: string;
  readonly product?: string;
  readonly sessionsPath: string;
  /**
   * False when the service root (read) links no SessionService: `sessionsPath` is then only where a session
   * login would be tried, not something the BMC offers. Undefined when the root was not read.
   */
  readonly sessionServiceLinked?: boolean;
  /** Paths of every ComputerSystem. */
  readonly systems: readonly string[];
  /** What each system offers, when several were read to choose one (path, SystemType, has a Boot object). */
  readonly systemsSeen?: readonly SystemSummary[];
  readonly systemPath: string;
  readonly systemId: string;
  readonly systemType?: string;
  readonly managerPath?: string;
  readonly firmwareVersion?: string;
  readonly managerResetTarget?: string;
  readonly managerResetTypes: readonly string[];
  readonly virtualMedia: {
    /** Where the slots live (by path). */
    readonly location: "system" | "manager" | "none";
    /** True when the slots were found through the system's `VirtualMedia` link (wherever they live). */
    readonly linkedFromSystem?: boolean;
    readonly slots: readonly VirtualMediaSlot[];
    /** The slot DpuHost would use (CD/DVD-capable, driveable), if any. */
    readonly chosen?: VirtualMediaSlot;
  };
  readonly boot: {
    readonly targets: readonly string[];
    readonly modes: readonly string[];
    /**
     * `@Redfish.Settings.SettingsObject`, only when it holds the boot-override properties: boot PATCHes go there
     * and apply at the next reset.
     */
    readonly settingsPath?: string;
    /** Why an advertised Settings object is not used for boot overrides (it holds only `BootOrder`, …). */
    readonly settingsIgnored?: string;
    readonly httpBootUri: boolean;
    /** The system has a `Boot` object (no Boot object: no boot override can be set). */
    readonly present: boolean;
  };
  readonly reset: { readonly target?: string; readonly types: readonly string[] };
  /** BootProgress as the system shows it; `timed` when it carries `LastStateTime`. */
  readonly bootProgress: { readonly supported: boolean; readonly oem: boolean; readonly timed?: boolean };
  readonly update: {
    readonly simpleUpdateTarget?: string;
    /** TransferProtocol values the BMC allows (empty: none advertised). */
    readonly transferProtocols: readonly string[];
    /** Where {@link transferProtocols} came from. */
    readonly transferProtocolsFrom?: "inline" | "actionInfo";
    /** FirmwareInventory paths that name the DPU operating system (`…/DPU_OS`). */
    readonly osTargets: readonly string[];
    /**
     * `@Redfish.OperationApplyTimeSupport.SupportedValues` of the SimpleUpdate action (DSP0266 "Operation apply
     * time"; Settings `OperationApplyTime`): absent when the BMC advertises none (Immediate only).
     */
    readonly applyTimes?: readonly string[];
    /** `HttpPushUriOptions.HttpPushUriApplyTime.ApplyTime` (UpdateService v1_4_0), where advertised. */
    readonly httpPushApplyTime?: string;
    /**
     * Present when the UpdateService was read: NVIDIA's `PublicKeyExchange` target there, if advertised (an SCP
     * SimpleUpdate then does not read the UpdateService again for it).
     */
    readonly scpKeyExchange?: { readonly target?: string };
  };
  /** Methods this BMC can carry out. */
  readonly methods: readonly BootMethod[];
  /** What DpuHost picks when `image.method` is unset. */
  readonly recommended?: BootMethod;
  /** Why a method is not offered, for methods the BMC does not support. */
  readonly unavailable?: Partial<Record<BootMethod, string>>;
}

/** One ComputerSystem as discovery saw it while choosing the DPU. */
export interface SystemSummary {
  readonly path: string;
  readonly systemType?: string;
  /** The system has a `Boot` object (a boot override can be set). */
  readonly canBoot: boolean;
}

/** Options of {@link discover}. */
export interface DiscoverOptions {
  /** Use this system (id or path) instead of guessing. */
  readonly systemId?: string;
  /** Use this virtual-media slot id. */
  readonly virtualMediaId?: string;
  /**
   * Read the UpdateService (and its FirmwareInventory) only when neither virtual media nor UEFI HTTP boot is
   * usable: for an image that one of those installs, SimpleUpdate would never be chosen, so its two reads are
   * skipped (`unavailable.simpleUpdate` then says it was not read). Default false (always read).
   */
  readonly updateServiceOnlyAsFallback?: boolean;
  /**
   * The virtual-media slot path kept in state: read directly (no manager, no slot collection) when it still
   * answers and the system has its own reset action (the manager's reset is not needed). The manager's
   * firmware version is then not read (state keeps the last one).
   */
  readonly slotPath?: string;
  /**
   * Read only what provisioning needs (default false: everything, as `inspect` reports it):
   * - the service root only when its answer is needed: to follow the UpdateService link, or to explain why the
   *   first request failed (not a Redfish service). The Systems collection is read at `/redfish/v1/Systems`
   *   (DSP0266: the ComputerSystemCollection URI; the root link is followed when that is not there) with
   *   `$expand=.($levels=1)`, which a service that does not support it ignores or refuses (then the plain
   *   collection is read);
   * - the manager only when the system needs it (its reset, or the virtual media it links); its firmware
   *   version is then read later ({@link readFirmwareVersion}, during the boot wait);
   * - a slot without InsertMedia (whose `Allow` header says whether PATCH drives it) only while no usable CD
   *   slot was found, and only when it could be chosen (CD/DVD media, the requested id).
   */
  readonly minimalReads?: boolean;
}

/** What {@link discoverWithSystem} found: the capabilities and the chosen system's body as read. */
export interface Discovered {
  readonly caps: BmcCapabilities;
  /** The ComputerSystem resource as discovery read it (moments ago): callers need not read it again. */
  readonly system: Json;
}

function link(v: unknown): string | undefined {
  if (v !== null && typeof v === "object" && typeof (v as Json)["@odata.id"] === "string")
    return (v as Json)["@odata.id"] as string;
  return undefined;
}

function members(body: Json): string[] {
  return (Array.isArray(body.Members) ? body.Members : []).map(link).filter((p): p is string => !!p);
}

/** Flattens AllowableValues (BlueField nests them: `[["SCP"]]`) and drops empty strings (old BlueField enums). */
export function allowable(v: unknown): string[] {
  if (!Array.isArray(v)) return [];
  return v.flat(2).filter((x): x is string => typeof x === "string" && x !== "");
}

function lastSegment(path: string): string {
  return path.replace(/\/+$/, "").split("/").pop() ?? path;
}

async function tryGet(
  client: RedfishClient,
  path: string,
  action: string,
): Promise<RedfishResponse | undefined> {
  try {
    return await client.get(path, { action });
  } catch (err) {
    if (isRedfishHttpError(err) && (err.status === 404 || err.status === 405 || err.status === 501))
      return undefined;
    throw err;
  }
}

function pickSystem(
  paths: readonly string[],
  bodies: ReadonlyMap<string, Json>,
  want?: string,
): string | undefined {
  if (want) {
    return paths.find((p) => p === want || lastSegment(p) === want);
  }
  if (paths.length === 1) return paths[0];
  const dpuLike = (p: string) => bodies.get(p)?.SystemType === "DPU" || /bluefield/i.test(lastSegment(p));
  const canBoot = (p: string) => typeof bodies.get(p)?.Boot === "object";
  // A DPU-like system that can boot first; a DPU-like one that cannot is still reported (methods say why).
  return paths.find((p) => dpuLike(p) && canBoot(p)) ?? paths.find(dpuLike);
}

function summaries(paths: readonly string[], bodies: ReadonlyMap<string, Json>): SystemSummary[] {
  return paths.map((p) => {
    const b = bodies.get(p);
    return {
      path: p,
      ...(typeof b?.SystemType === "string" ? { systemType: b.SystemType } : {}),
      canBoot: b !== undefined && typeof b.Boot === "object" && b.Boot !== null,
    };
  });
}

/** `Id (SystemType, can boot)` for each system, for messages. */
export function describeSystems(seen: readonly SystemSummary[]): string {
  return seen
    .map(
      (s) =>
        `${lastSegment(s.path)} (${[s.systemType, s.canBoot ? "has a Boot object" : "no Boot object"].filter(Boolean).join(", ")})`,
    )
    .join(", ");
}

/** Parses a virtual-media slot (exported: insert and eject re-read their targets from a fresh GET). */
export function parseSlot(
  body: Json,
  path: string,
  under: "system" | "manager",
  allow?: string,
): VirtualMediaSlot {
  const actions = (body.Actions ?? {}) as Json;
  const ins = actions["#VirtualMedia.InsertMedia"] as Json | undefined;
  const ej = actions["#VirtualMedia.EjectMedia"] as Json | undefined;
  const insertTarget = typeof ins?.target === "string" ? ins.target : undefined;
  const ejectTarget = typeof ej?.target === "string" ? ej.target : undefined;
  const allowsPatch = allow === undefined || /\bPATCH\b/i.test(allow);
  const transferMethods = allowable(ins?.["TransferMethod@Redfish.AllowableValues"]);
  const image = typeof body.Image === "string" && body.Image !== "" ? body.Image : undefined;
  return {
    path,
    id: typeof body.Id === "string" ? body.Id : lastSegment(path),
    mediaTypes: allowable(body.MediaTypes),
    under,
    ...(insertTarget ? { insertTarget } : {}),
    ...(ejectTarget ? { ejectTarget } : {}),
    patchable: !insertTarget && allowsPatch,
    ...(transferMethods.length > 0 ? { transferMethods } : {}),
    inserted: body.Inserted === true,
    ...(image ? { image } : {}),
  };
}

/** The query that expands a collection's members one level (DSP0266 `$expand=.($levels=1)`). */
const EXPAND = "?$expand=.($levels=1)";

/**
 * True when the service root says `$expand=.($levels=1)` is served (`ProtocolFeaturesSupported.ExpandQuery`
 * with `NoLinks` and `Levels`): a collection and its members then cost one request.
 */
export function expandSupported(root: Json): boolean {
  const f = root.ProtocolFeaturesSupported as Json | undefined;
  const e = (f && typeof f === "object" ? f.ExpandQuery : undefined) as Json | undefined;
  return (
    !!e &&
    typeof e === "object" &&
    e.NoLinks === true &&
    e.Levels === true &&
    (typeof e.MaxLevels !== "number" || e.MaxLevels >= 1)
  );
}

/**
 * Reads a collection (expanded when `expand`) and returns its member paths and the member bodies it carried
 * inline (a service that ignores `$expand` carries none: those members are read one by one by the caller).
 * Inline bodies' `@odata.etag` are noted for If-Match.
 */
async function readCollection(
  client: RedfishClient,
  path: string,
  action: string,
  expand: boolean,
  optional: boolean,
): Promise<{ paths: string[]; inline: Map<string, Json> } | undefined> {
  const plain = (): Promise<RedfishResponse | undefined> =>
    optional ? tryGet(client, path, action) : client.get(path, { action });
  let res: RedfishResponse | undefined;
  try {
    res = expand ? await client.get(`${path}${EXPAND}`, { action }) : await plain();
  } catch (err) {
    // A service that advertises $expand but refuses this form (400, 404, 405, 501): the plain collection.
    if (!(expand && isRedfishHttpError(err) && [400, 404, 405, 501].includes(err.status))) throw err;
    res = await plain();
  }
  if (!res) return undefined;
  const inline = new Map<string, Json>();
  const list = Array.isArray(res.body.Members) ? res.body.Members : [];
  for (const m of list) {
    const id = link(m);
    if (!id || m === null || typeof m !== "object") continue;
    const body = m as Json;
    // A member with more than its link (a type or an Id) is the member's body.
    if (typeof body["@odata.type"] === "string" || typeof body.Id === "string") {
      inline.set(id, body);
      if (typeof body["@odata.etag"] === "string") client.noteEtag(id, body["@odata.etag"]);
    }
  }
  return { paths: members(res.body), inline };
}

async function slotsAt(
  client: RedfishClient,
  collection: string,
  under: "system" | "manager",
  expand: boolean,
  minimal?: { readonly wantId?: string },
): Promise<VirtualMediaSlot[]> {
  const coll = await readCollection(client, collection, "list virtual media", expand, true);
  if (!coll) return [];
  const out: VirtualMediaSlot[] = [];
  for (const p of coll.paths) {
    // Where a slot lives is told by its path: a system may link a collection of manager slots.
    const lives = /\/Managers\//.test(p) ? "manager" : /\/Systems\//.test(p) ? "system" : under;
    const body = coll.inline.get(p);
    // A slot without InsertMedia is driven by PATCH only if its `Allow` header permits: only its own GET says.
    if (body && (((body.Actions ?? {}) as Json)["#VirtualMedia.InsertMedia"] as Json | undefined)) {
      out.push(parseSlot(body, p, lives));
      continue;
    }
    // Minimal reads: a slot that cannot be chosen, or any slot once a usable CD slot was found, is not read.
    if (body && minimal) {
      const seen = parseSlot(body, p, lives);
      const media = seen.mediaTypes;
      const candidate =
        (minimal.wantId === undefined || seen.id === minimal.wantId || lastSegment(p) === minimal.wantId) &&
        (media.length === 0 || media.includes("CD") || media.includes("DVD"));
      const found = out.some((s) => (s.insertTarget || s.patchable) && s.mediaTypes.includes("CD"));
      if (!candidate || (found && minimal.wantId === undefined)) {
        out.push(seen);
        continue;
      }
    }
    const res = await tryGet(client, p, "read virtual media slot");
    if (res) out.push(parseSlot(res.body, p, lives, res.headers.allow));
  }
  return out;
}

function chooseSlot(slots: readonly VirtualMediaSlot[], wantId?: string): VirtualMediaSlot | undefined {
  if (wantId) return slots.find((s) => s.id === wantId || lastSegment(s.path) === wantId);
  const usable = slots.filter((s) => (s.insertTarget || s.patchable) && !/^(RDOC|Remote)/i.test(s.id));
  return (
    usable.find((s) => s.mediaTypes.includes("CD")) ??
    usable.find((s) => s.mediaTypes.includes("DVD")) ??
    usable.find((s) => s.mediaTypes.length === 0)
  );
}

/** Reads the reset types of an action: inline AllowableValues or its `@Redfish.ActionInfo`. */
async function resetTypes(client: RedfishClient, action: Json | undefined): Promise<string[]> {
  if (!action) return [];
  const inline = allowable(action["ResetType@Redfish.AllowableValues"]);
  if (inline.length > 0) return inline;
  const info = typeof action["@Redfish.ActionInfo"] === "string" ? action["@Redfish.ActionInfo"] : undefined;
  if (!info) return [];
  const res = await tryGet(client, info, "read reset action info");
  const params = Array.isArray(res?.body.Parameters) ? (res.body.Parameters as Json[]) : [];
  return allowable(params.find((p) => p?.Name === "ResetType")?.AllowableValues);
}

/**
 * Methods the capabilities allow, and the recommendation for booting an ISO: virtual media, then UEFI HTTP
 * boot, then a vendor image install (a BFB bundle always goes through SimpleUpdate; see DpuHost chooseMethod).
 */
export function methodsOf(c: Omit<BmcCapabilities, "methods" | "recommended" | "unavailable">): {
  methods: BootMethod[];
  recommended?: BootMethod;
  unavailable: Partial<Record<BootMethod, string>>;
} {
  const methods: BootMethod[] = [];
  const unavailable: Partial<Record<BootMethod, string>> = {};
  const noBoot = `system ${c.systemId} has no Boot object (no boot override can be set)`;
  const vmTarget = c.boot.targets.length === 0 || c.boot.targets.includes("Cd");
  if (!c.virtualMedia.chosen)
    unavailable.virtualMedia =
      c.virtualMedia.slots.length === 0
        ? "no virtual media slots"
        : "no CD/DVD slot with an InsertMedia action or PATCH support";
  else if (!c.boot.present) unavailable.virtualMedia = noBoot;
  else if (!vmTarget)
    unavailable.virtualMedia = `boot target Cd not allowed (allowed: ${c.boot.targets.join(", ")})`;
  else methods.push("virtualMedia");
  if (!c.boot.present) unavailable.uefiHttp = noBoot;
  else if (!c.boot.targets.includes("UefiHttp")) unavailable.uefiHttp = "boot target UefiHttp not allowed";
  else if (!c.boot.httpBootUri)
    unavailable.uefiHttp = "the system has no Boot.HttpBootUri, so the image URL cannot be set";
  else methods.push("uefiHttp");
  if (!c.update.simpleUpdateTarget) unavailable.simpleUpdate = "no UpdateService.SimpleUpdate action";
  else if (c.update.osTargets.length === 0)
    unavailable.simpleUpdate = "no FirmwareInventory item names the DPU OS";
  else methods.push("simpleUpdate");
  return methods[0] ? { methods, recommended: methods[0], unavailable } : { methods, unavailable };
}

/** The boot-override properties a Settings object must hold to take boot PATCHes. */
const OVERRIDE_PROPS = ["BootSourceOverrideTarget", "BootSourceOverrideEnabled"];

/**
 * Whether the `@Redfish.Settings` object takes boot overrides: only when its `Boot` holds the override
 * properties (an XCC-like `Pending` object holding only `BootOrder` does not). Returns the reason otherwise.
 */
async function settingsFor(
  client: RedfishClient,
  path: string | undefined,
): Promise<{ settingsPath?: string; settingsIgnored?: string }> {
  if (!path) return {};
  const res = await tryGet(client, path, "read the Settings object");
  if (!res) return { settingsIgnored: `${path} could not be read` };
  const boot = res.body.Boot;
  const keys = boot !== null && typeof boot === "object" ? Object.keys(boot as Json) : [];
  if (OVERRIDE_PROPS.some((k) => keys.includes(k))) return { settingsPath: path };
  return {
    settingsIgnored: `${path} holds ${keys.length > 0 ? `only ${keys.filter((k) => !k.startsWith("@")).join(", ")}` : "no Boot properties"}, not the boot override; overrides go to the system`,
  };
}

/** SimpleUpdate's TransferProtocol values: inline (nested arrays flattened) or from its `@Redfish.ActionInfo`. */
async function transferProtocols(
  client: RedfishClient,
  su: Json | undefined,
): Promise<{ protocols: string[]; from?: "inline" | "actionInfo" }> {
  if (!su) return { protocols: [] };
  const inline = allowable(su["TransferProtocol@Redfish.AllowableValues"]);
  if (inline.length > 0) return { protocols: inline, from: "inline" };
  const info = typeof su["@Redfish.ActionInfo"] === "string" ? su["@Redfish.ActionInfo"] : undefined;
  if (!info) return { protocols: [] };
  const res = await tryGet(client, info, "read SimpleUpdate action info");
  const params = Array.isArray(res?.body.Parameters) ? (res.body.Parameters as Json[]) : [];
  const values = allowable(params.find((p) => p?.Name === "TransferProtocol")?.AllowableValues);
  return values.length > 0 ? { protocols: values, from: "actionInfo" } : { protocols: [] };
}

/** The manager's `FirmwareVersion` (one GET), or undefined when it shows none or is gone. */
export async function readFirmwareVersion(
  client: RedfishClient,
  managerPath: string,
): Promise<string | undefined> {
  const body = (await tryGet(client, managerPath, "read manager"))?.body;
  return typeof body?.FirmwareVersion === "string" ? body.FirmwareVersion : undefined;
}

/** Longest piece of a non-Redfish answer quoted in an error. */
const QUOTE_CHARS = 160;

/**
 * Why a service root answer is not Redfish (not a JSON object, or one without `RedfishVersion` and
 * `@odata.id`), quoting a bounded piece of it; undefined when it is Redfish.
 */
export function notRedfishRoot(res: {
  readonly headers: Readonly<Record<string, string>>;
  readonly text?: string;
  readonly body: Json;
}): string | undefined {
  if (typeof res.body.RedfishVersion === "string" || typeof res.body["@odata.id"] === "string")
    return undefined;
  const text = res.text ?? "";
  const flat = text.replace(/\s+/g, " ").trim();
  const quote =
    flat === ""
      ? "an empty body"
      : `"${redact(flat.slice(0, QUOTE_CHARS))}${flat.length > QUOTE_CHARS ? "…" : ""}"`;
  const type = res.headers["content-type"] ? ` (${res.headers["content-type"]})` : "";
  let json = false;
  try {
    const v = JSON.parse(text) as unknown;
    json = v !== null && typeof v === "object" && !Array.isArray(v);
  } catch {
    json = false;
  }
  return json
    ? `it answered JSON without RedfishVersion or @odata.id${type}: ${quote}`
    : `it answered something that is not JSON${type}: ${quote}`;
}

/**
 * Discovers what a BMC offers (DMTF sequence §1.13 steps 1, 3, 4): service root, the DPU's ComputerSystem,
 * its boot and reset capabilities, virtual media under the system or its manager, the UpdateService.
 * Read-only: only GETs are sent.
 */
export async function discover(client: RedfishClient, opts: DiscoverOptions = {}): Promise<BmcCapabilities> {
  return (await discoverWithSystem(client, opts)).caps;
}

/**
 * {@link discover}, also returning the system's body it read. A `systemId` that is a path (`/redfish/v1/…`, as
 * kept in state) is read directly, without listing the systems first; the list is read only when that path
 * is gone (to name the systems there are).
 */
export async function discoverWithSystem(
  client: RedfishClient,
  opts: DiscoverOptions = {},
): Promise<Discovered> {
  let root: Json | undefined;
  let sessionsPath = "/redfish/v1/SessionService/Sessions";
  const readRoot = async (): Promise<Json> => {
    if (root) return root;
    const rootRes = await client.get("/redfish/v1", { action: "read service root", noAuth: true });
    const notRedfish = notRedfishRoot(rootRes);
    if (notRedfish !== undefined) {
      throw new DpuError(
        "DPU_REDFISH_DISCOVERY",
        `discover BMC ${client.origin}: the service root /redfish/v1 is not a Redfish service root (${notRedfish}); check bmc.endpoint: it must be the BMC's Redfish address`,
      );
    }
    root = rootRes.body;
    sessionsPath = link(((root.Links ?? {}) as Json).Sessions) ?? sessionsPath;
    client.useSessionsPath(sessionsPath);
    client.useServiceRoot(root);
    return root;
  };
  if (!opts.minimalReads) await readRoot();

  const SYSTEMS = "/redfish/v1/Systems";
  const systemsPath = (r: Json | undefined) => (r ? (link(r.Systems) ?? SYSTEMS) : SYSTEMS);
  const bodies = new Map<string, Json>();
  const known = opts.systemId?.startsWith(`${systemsPath(root)}/`) ? opts.systemId : undefined;
  const direct = known ? await tryGet(client, known, "read system") : undefined;
  if (known && direct) bodies.set(known, direct.body);
  let systems: string[];
  if (known && direct) systems = [known];
  else {
    const list = (r: Json | undefined) =>
      readCollection(client, systemsPath(r), "list systems", r ? expandSupported(r) : true, false);
    let listed: Awaited<ReturnType<typeof readCollection>>;
    try {
      listed = await list(root);
    } catch (err) {
      // Lazy root: the Systems collection is not where DSP0266 puts it. The root says whether this is Redfish
      // at all (its error names bmc.endpoint) and where the collection is.
      if (root || !isRedfishHttpError(err) || err.status === 401 || err.status === 0) throw err;
      const r = await readRoot();
      if (systemsPath(r) === SYSTEMS) throw err;
      listed = await list(r);
    }
    systems = listed?.paths ?? [];
    for (const [p, b] of listed?.inline ?? []) bodies.set(p, b);
    // Something that answered without members may not be Redfish at all: the root tells.
    if (systems.length === 0 && !root) await readRoot();
  }
  // `$expand` as the root advertises it; without the root (lazy), tried: ignored or refused, members are read.
  const expand = root ? expandSupported(root) : true;
  let systemPath = pickSystem(systems, bodies, opts.systemId);
  if (!systemPath && !opts.systemId) {
    for (const p of systems)
      if (!bodies.has(p)) bodies.set(p, (await client.get(p, { action: "read system" })).body);
    systemPath = pickSystem(systems, bodies);
  }
  if (!systemPath) {
    const listed =
      bodies.size > 0 ? describeSystems(summaries(systems, bodies)) : systems.map(lastSegment).join(", ");
    throw new DpuError(
      "DPU_REDFISH_DISCOVERY",
      `discover BMC ${client.origin}: ${
        opts.systemId ? `no system '${opts.systemId}'` : "several systems and none is recognisably the DPU"
      }; systems: ${listed || "(none)"}. Set bmc.systemId to the DPU's system.`,
    );
  }
  const system = bodies.get(systemPath) ?? (await client.get(systemPath, { action: "read system" })).body;
  const boot = (system.Boot ?? {}) as Json;
  const actions = (system.Actions ?? {}) as Json;
  const resetAction = actions["#ComputerSystem.Reset"] as Json | undefined;
  const settings = await settingsFor(
    client,
    link(((system["@Redfish.Settings"] ?? {}) as Json).SettingsObject),
  );
  const bp = system.BootProgress as Json | undefined;

  const managedBy = Array.isArray((system.Links as Json | undefined)?.ManagedBy)
    ? ((system.Links as Json).ManagedBy as unknown[])
    : [];
  const managerPath = link(managedBy[0]);
  const keptSlot =
    opts.slotPath && typeof resetAction?.target === "string"
      ? await tryGet(client, opts.slotPath, "read virtual media slot")
      : undefined;
  const sysVm = link(system.VirtualMedia);
  const readManager = async () =>
    managerPath ? (await tryGet(client, managerPath, "read manager"))?.body : undefined;
  // Minimal reads: the manager is not needed while the system has its own reset and links its virtual media.
  const systemResets = opts.minimalReads === true && typeof resetAction?.target === "string";
  const managerLater = systemResets && !!sysVm;
  let manager = managerPath && !keptSlot && !managerLater ? await readManager() : undefined;
  const minimal = opts.minimalReads
    ? { ...(opts.virtualMediaId ? { wantId: opts.virtualMediaId } : {}) }
    : undefined;

  let location: "system" | "manager" | "none" = "none";
  let slots: VirtualMediaSlot[] = [];
  let linkedFromSystem = false;
  if (keptSlot && opts.slotPath) {
    const lives = /\/Managers\//.test(opts.slotPath) ? "manager" : "system";
    slots = [parseSlot(keptSlot.body, opts.slotPath, lives, keptSlot.headers.allow)];
    linkedFromSystem = sysVm !== undefined;
  } else if (sysVm) {
    slots = await slotsAt(client, sysVm, "system", expand, minimal);
    linkedFromSystem = slots.length > 0;
  }
  if (slots.length === 0 && !keptSlot && !manager && managerLater) manager = await readManager();
  const mgrReset = (manager?.Actions as Json | undefined)?.["#Manager.Reset"] as Json | undefined;
  const mgrVm = link(manager?.VirtualMedia);
  if (slots.length === 0 && mgrVm) slots = await slotsAt(client, mgrVm, "manager", expand, minimal);
  else if (mgrVm && !opts.minimalReads && !keptSlot) {
    // Everything the BMC offers (inspect): the Manager's slots too, deprecated where the system has its own
    // (iDRAC keeps both); the system's slots come first, so they stay the ones chosen.
    const known = new Set(slots.map((sl) => sl.path));
    const more = await slotsAt(client, mgrVm, "manager", expand);
    slots = [...slots, ...more.filter((sl) => !known.has(sl.path))];
  }
  if (slots.length > 0) location = slots.some((sl) => sl.under === "system") ? "system" : "manager";
  const chosen = chooseSlot(slots, opts.virtualMediaId);
  // A slot id the BMC does not have is refused (as a system id is), never replaced by another method or slot.
  if (opts.virtualMediaId && !chosen) {
    throw new DpuError(
      "DPU_REDFISH_DISCOVERY",
      `discover BMC ${client.origin}: no virtual media slot '${opts.virtualMediaId}' for system ${lastSegment(systemPath)}; slots: ${
        slots.map((sl) => sl.id || lastSegment(sl.path)).join(", ") || "(none)"
      }. Set bmc.virtualMediaId to one of them, or leave it unset; nothing was changed.`,
    );
  }

  const bootFits = (() => {
    if (!opts.updateServiceOnlyAsFallback) return false;
    const probe = methodsOf({
      sessionsPath,
      systems,
      systemPath,
      systemId: lastSegment(systemPath),
      managerResetTypes: [],
      virtualMedia: { location, slots, ...(chosen ? { chosen } : {}) },
      boot: {
        targets: allowable(boot["BootSourceOverrideTarget@Redfish.AllowableValues"]),
        modes: [],
        httpBootUri: "HttpBootUri" in boot,
        present: system.Boot !== null && typeof system.Boot === "object",
      },
      reset: { types: [] },
      bootProgress: { supported: false, oem: false },
      update: { transferProtocols: [], osTargets: [] },
    });
    return probe.methods.includes("virtualMedia") || probe.methods.includes("uefiHttp");
  })();
  const updatePath = bootFits ? undefined : link((await readRoot()).UpdateService);
  const update = updatePath ? (await tryGet(client, updatePath, "read update service"))?.body : undefined;
  const su = (update?.Actions as Json | undefined)?.["#UpdateService.SimpleUpdate"] as Json | undefined;
  const simpleUpdateTarget = typeof su?.target === "string" ? su.target : undefined;
  const protocols = await transferProtocols(client, su);
  let osTargets: string[] = [];
  const fwPath = link(update?.FirmwareInventory);
  if (simpleUpdateTarget && fwPath) {
    const fw = await tryGet(client, fwPath, "list firmware inventory");
    osTargets = fw ? members(fw.body).filter((p) => /(^|_)OS($|_)|OS_Image/i.test(lastSegment(p))) : [];
  }

  const oemKeys = root?.Oem && typeof root.Oem === "object" ? Object.keys(root.Oem as Json) : [];
  const vendor = typeof root?.Vendor === "string" ? root.Vendor : oemKeys[0];
  const base = {
    ...(typeof root?.RedfishVersion === "string" ? { redfishVersion: root.RedfishVersion } : {}),
    ...(vendor !== undefined ? { vendor } : {}),
    ...(typeof root?.Product === "string" ? { product: root.Product } : {}),
    sessionsPath,
    ...(root
      ? {
          sessionServiceLinked:
            root.SessionService !== undefined || ((root.Links ?? {}) as Json).Sessions !== undefined,
        }
      : {}),
    systems,
    ...(bodies.size > 1 ? { systemsSeen: summaries(systems, bodies) } : {}),
    systemPath,
    systemId: lastSegment(systemPath),
    ...(typeof system.SystemType === "string" ? { systemType: system.SystemType } : {}),
    ...(managerPath ? { managerPath } : {}),
    ...(typeof manager?.FirmwareVersion === "string" ? { firmwareVersion: manager.FirmwareVersion } : {}),
    // Minimal reads: the manager's reset (and its ActionInfo) only where the system has none of its own; otherwise
    // the reset fallback reads it when it is needed (see resetSystem).
    ...(typeof mgrReset?.target === "string" && !systemResets ? { managerResetTarget: mgrReset.target } : {}),
    managerResetTypes: systemResets ? [] : await resetTypes(client, mgrReset),
    virtualMedia: {
      location,
      ...(linkedFromSystem ? { linkedFromSystem } : {}),
      slots,
      ...(chosen ? { chosen } : {}),
    },
    boot: {
      targets: allowable(boot["BootSourceOverrideTarget@Redfish.AllowableValues"]),
      modes: allowable(boot["BootSourceOverrideMode@Redfish.AllowableValues"]),
      ...settings,
      httpBootUri: "HttpBootUri" in boot,
      present: system.Boot !== null && typeof system.Boot === "object",
    },
    reset: {
      ...(typeof resetAction?.target === "string" ? { target: resetAction.target } : {}),
      types: await resetTypes(client, resetAction),
    },
    bootProgress: {
      supported: bp !== undefined && typeof bp === "object",
      oem: bp?.LastState === "OEM" || "OemLastState" in (bp ?? {}),
      ...(bp && typeof bp === "object" ? { timed: typeof bp.LastStateTime === "string" } : {}),
    },
    update: {
      ...(simpleUpdateTarget ? { simpleUpdateTarget } : {}),
      transferProtocols: protocols.protocols,
      ...(protocols.from ? { transferProtocolsFrom: protocols.from } : {}),
      osTargets,
      ...operationApplyTimes(su, update),
      ...(update ? { scpKeyExchange: keyExchangeIn(update) } : {}),
    },
  };
  const m = methodsOf(base);
  const caps: BmcCapabilities = bootFits
    ? {
        ...base,
        ...m,
        unavailable: {
          ...m.unavailable,
          simpleUpdate: "the UpdateService was not read: virtual media or UEFI HTTP boot installs this image",
        },
      }
    : { ...base, ...m };
  return { caps, system };
}

/** NVIDIA's PublicKeyExchange target in an UpdateService body, as {@link BmcCapabilities} keeps it. */
function keyExchangeIn(update: Json): { readonly target?: string } {
  const target = exchangeTargetOf(update);
  return target ? { target } : {};
}

/**
 * What the UpdateService advertises about apply time: the SimpleUpdate action's
 * `@Redfish.OperationApplyTimeSupport.SupportedValues` and the `HttpPushUri` apply time.
 */
function operationApplyTimes(
  su: Json | undefined,
  update: Json | undefined,
): { applyTimes?: string[]; httpPushApplyTime?: string } {
  const support = su?.["@Redfish.OperationApplyTimeSupport"] as Json | undefined;
  const values = Array.isArray(support?.SupportedValues)
    ? support.SupportedValues.filter((v): v is string => typeof v === "string")
    : undefined;
  const push = ((update?.HttpPushUriOptions as Json | undefined)?.HttpPushUriApplyTime ?? undefined) as
    | Json
    | undefined;
  return {
    ...(values ? { applyTimes: values } : {}),
    ...(typeof push?.ApplyTime === "string" ? { httpPushApplyTime: push.ApplyTime } : {}),
  };
}
