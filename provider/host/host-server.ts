import { DpuError } from "../errors/dpu-error";
import { RedfishHttpError } from "../errors/redfish-http-error";
import { pollUntil } from "../lifecycle/wait";
import { type Logger, registerSecret } from "../log";
import { RedfishClient } from "../redfish";
import { allowable } from "../redfish/discovery";
import type { Json } from "../redfish/messages";
import { beginCycle, endCycle, unfinishedCycle } from "./host-power-journal";
import type { DpuHostInputs } from "./inputs.schema";
import { hostTransports } from "./transports";

/** The `host` block, checked. */
export type HostServer = NonNullable<DpuHostInputs["host"]>;

/** The host server's system as its BMC shows it: power and the reset action. */
export interface HostSystem {
  readonly path: string;
  /**
   * `On` or `Off` (PoweringOn counts as On, PoweringOff as Off, as ironic folds them); undefined when the BMC
   * shows no PowerState DSP0268 defines (absent, `null`, or another value): nothing may be inferred from it.
   */
  readonly power: "On" | "Off" | undefined;
  readonly rawPower: string;
  readonly resetTarget?: string;
  /** ResetType values allowed (empty: not listed). */
  readonly resetTypes: readonly string[];
}

/** A Redfish client for the host server's BMC (credentials registered as secrets first). */
export function hostClient(host: HostServer): RedfishClient {
  registerSecret(host.password);
  return new RedfishClient({
    endpoint: host.endpoint,
    username: host.username,
    password: host.password,
    ...(host.caCert ? { caCert: host.caCert } : {}),
    insecureSkipVerify: host.insecureSkipVerify,
    auth: "auto",
    preferBasic: true,
    requestTimeoutMs: 30_000,
    retryAttempts: 5,
    retryBaseDelayMs: 500,
    layers: hostTransports().redfishLayers,
  });
}

function isRecord(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The host's system path: `host.systemId`, else the only member of Systems. */
async function hostSystemPath(client: RedfishClient, host: HostServer): Promise<string> {
  const coll = (await client.get("/redfish/v1/Systems", { action: "list the host server's systems" })).body;
  const paths = (Array.isArray(coll.Members) ? coll.Members : [])
    .map((m) => (isRecord(m) && typeof m["@odata.id"] === "string" ? m["@odata.id"] : undefined))
    .filter((p): p is string => p !== undefined);
  const want = host.systemId;
  const found = want
    ? paths.find((p) => p === want || p.replace(/\/+$/, "").endsWith(`/${want}`))
    : paths.length === 1
      ? paths[0]
      : undefined;
  if (!found)
    throw new DpuError(
      "DPU_REDFISH_DISCOVERY",
      `find the host server's system on BMC ${client.origin}: ${want ? `no system ${want}` : `${paths.length} systems`} (${paths.join(", ") || "none"}); ${want ? "check" : "set"} host.systemId`,
    );
  return found;
}

/** Reads the host's system: power state and reset action (ActionInfo followed where the BMC uses one). */
export async function readHostSystem(
  client: RedfishClient,
  host: HostServer,
  path?: string,
): Promise<HostSystem> {
  return readPowerControl(client, path ?? (await hostSystemPath(client, host)), "the host server's");
}

/** Power state and reset action of the system at `p` (`whose` names it in errors: "the host server's"). */
export async function readPowerControl(client: RedfishClient, p: string, whose: string): Promise<HostSystem> {
  const body = (await client.get(p, { action: `read ${whose} power state` })).body;
  const raw = typeof body.PowerState === "string" ? body.PowerState : "(no PowerState)";
  const actions = isRecord(body.Actions) ? body.Actions : {};
  const reset = isRecord(actions["#ComputerSystem.Reset"]) ? actions["#ComputerSystem.Reset"] : undefined;
  let types = allowable(reset?.["ResetType@Redfish.AllowableValues"]);
  const info = reset?.["@Redfish.ActionInfo"];
  if (types.length === 0 && typeof info === "string") {
    const ai = (await client.get(info, { action: `read ${whose} reset ActionInfo` })).body;
    const params = Array.isArray(ai.Parameters) ? ai.Parameters : [];
    const rt = params.find((x): x is Json => isRecord(x) && x.Name === "ResetType");
    types = allowable(rt?.AllowableValues);
  }
  return {
    path: p,
    power:
      raw === "On" || raw === "PoweringOn"
        ? "On"
        : raw === "Off" || raw === "PoweringOff"
          ? "Off"
          : undefined,
    rawPower: raw,
    ...(typeof reset?.target === "string" ? { resetTarget: reset.target } : {}),
    resetTypes: types,
  };
}

const PREFER: Readonly<Record<"on" | "off", readonly string[]>> = {
  on: ["On", "ForceOn", "PushPowerButton"],
  off: ["ForceOff", "GracefulShutdown", "PushPowerButton"],
};

/**
 * Why the host's BMC cannot power the host off and on again with the ResetType values it lists (an empty list
 * says nothing and is tried), or undefined. Checked before the mode change sends anything.
 */
export function hostCycleRefusal(client: RedfishClient, found: HostSystem): string | undefined {
  if (found.resetTypes.length === 0) return undefined;
  const missing = (["off", "on"] as const).filter(
    (w) => !PREFER[w].some((t) => found.resetTypes.includes(t)),
  );
  if (missing.length === 0) return undefined;
  return `the host server's system ${found.path} on BMC ${client.origin} allows ResetType ${found.resetTypes.join(", ")}, none of which powers it ${missing.join(" or ")} (${missing.map((w) => PREFER[w].join("/")).join("; ")}), so host.policy powerCycle cannot power-cycle it and leave it as found; nothing was changed`;
}

/** Powers the host `want` through its BMC and waits until its BMC reports it. */
async function powerHost(
  client: RedfishClient,
  host: HostServer,
  sys: HostSystem,
  want: "on" | "off",
  log: Logger,
): Promise<HostSystem> {
  const types =
    sys.resetTypes.length === 0 ? PREFER[want] : PREFER[want].filter((t) => sys.resetTypes.includes(t));
  const resetTarget = sys.resetTarget;
  if (types.length === 0 || !resetTarget)
    throw new DpuError(
      "DPU_REDFISH_UNSUPPORTED",
      `power ${want} the host server (${sys.path} on BMC ${client.origin}): no suitable ResetType; the BMC allows ${sys.resetTypes.join(", ") || "none"}`,
    );
  // A type the BMC lists but refuses with a 4xx (a host BMC that allows only GracefulShutdown while the OS
  // runs) falls through to the next one; PushPowerButton toggles, so it is only sent from the opposite state.
  let type = "";
  for (const t of types) {
    if (t === "PushPowerButton" && sys.power !== (want === "on" ? "Off" : "On")) continue;
    try {
      await client.post(resetTarget, { ResetType: t }, { action: `power ${want} the host server (${t})` });
      type = t;
      break;
    } catch (e) {
      const status = e instanceof RedfishHttpError ? e.status : 0;
      if (status < 400 || status >= 500 || t === types.at(-1)) throw e;
      log.info(
        `host server ${sys.path} on ${client.origin}: ${t} refused (HTTP ${status}); trying the next ResetType`,
      );
    }
  }
  if (!type)
    throw new DpuError(
      "DPU_REDFISH_UNSUPPORTED",
      `power ${want} the host server (${sys.path} on BMC ${client.origin}): it is ${sys.rawPower} and the BMC allows only ${sys.resetTypes.join(", ")}`,
    );
  log.info(`host server ${sys.path} on ${client.origin}: power ${want} (${type})`);
  const target = want === "on" ? "On" : "Off";
  return pollUntil(
    async () => {
      const cur = await readHostSystem(client, host, sys.path);
      return { done: cur.rawPower === target, value: cur, status: `host power ${cur.rawPower}` };
    },
    {
      what: `host server ${sys.path} on ${client.origin} to power ${want}`,
      timeoutMs: host.timeoutMs,
      intervalMs: 300,
      onProgress: (l) => log.info(l),
    },
  );
}

/**
 * Reserves the host server for a power cycle before the mode change starts (Mode.Set, the Arm resets): refuses a
 * host whose BMC shows no PowerState, and one another live provider process is cycling; records the power state
 * to leave the host in, which is the one an earlier run recorded when that run did not finish (killed, or its host
 * BMC dropped after powering the host off), else the one found now. Returns that state.
 */
export function reserveHostCycle(
  client: RedfishClient,
  found: HostSystem,
  log: Logger,
): HostCycleReservation {
  if (found.power === undefined)
    throw new DpuError("DPU_REDFISH_UNSUPPORTED", unknownPowerReason(client, found));
  const left = unfinishedCycle(client.origin, found.path);
  const asFound = left?.found ?? found.power;
  if (left)
    log.info(
      `host server ${found.path} on ${client.origin}: a power cycle started ${left.since} (pid ${left.pid}) did not finish; the host was ${left.found} before it and is left ${left.found}`,
    );
  beginCycle(client.origin, found.path, asFound);
  return {
    asFound,
    // A change that fails before the host was touched releases a reservation it made (not one it inherited).
    release: () => {
      if (!left) endCycle(client.origin, found.path);
    },
  };
}

/** A host server reserved for a power cycle: the state to leave it in, and how to give it up untouched. */
export interface HostCycleReservation {
  readonly asFound: "On" | "Off";
  release(): void;
}

/**
 * Power-cycles the host through its BMC and leaves it as found (NVIDIA "BlueField Modes of Operation
 * Configuration", step 3: the mode change completes with a power cycle from the host): a host that is On now is
 * powered off, then on; one that is Off is powered on (the power-on completes the change). It is then left
 * `asFound` ({@link reserveHostCycle}). Each transition is waited for until the host BMC reports it. The caller
 * holds {@link withHostServerLock}.
 */
export async function powerCycleHost(
  client: RedfishClient,
  host: HostServer,
  found: HostSystem,
  log: Logger,
  reserved: HostCycleReservation = reserveHostCycle(client, found, log),
): Promise<HostSystem> {
  const asFound = reserved.asFound;
  // Read again: the Arm resets took a while since `found` was read.
  let cur = await readHostSystem(client, host, found.path);
  if (cur.power === undefined) throw new DpuError("DPU_REDFISH_UNSUPPORTED", unknownPowerReason(client, cur));
  if (cur.power === "On") cur = await powerHost(client, host, cur, "off", log);
  cur = await powerHost(client, host, cur, "on", log);
  if (asFound === "Off") cur = await powerHost(client, host, cur, "off", log);
  endCycle(client.origin, found.path);
  return cur;
}

/** Why a host whose BMC shows no PowerState cannot be power-cycled (nor checked Off). */
export function unknownPowerReason(client: RedfishClient, found: HostSystem): string {
  return `the host server's system ${found.path} on BMC ${client.origin} shows PowerState ${found.rawPower}: DpuHost cannot tell whether the host is On, so it neither power-cycles it nor counts it as Off; nothing was changed`;
}
