import { DpuError } from "../errors/dpu-error";
import { pollUntil } from "../lifecycle/wait";
import { type Logger, registerSecret } from "../log";
import { RedfishClient } from "../redfish";
import { allowable } from "../redfish/discovery";
import type { Json } from "../redfish/messages";
import type { DpuHostInputs } from "./inputs.schema";
import { hostTransports } from "./transports";

/** The `host` block, checked. */
export type HostServer = NonNullable<DpuHostInputs["host"]>;

/** The host server's system as its BMC shows it: power and the reset action. */
export interface HostSystem {
  readonly path: string;
  /** `On` or `Off` (PoweringOn counts as On, PoweringOff as Off, as ironic folds them). */
  readonly power: "On" | "Off";
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
  const raw = typeof body.PowerState === "string" ? body.PowerState : "Unknown";
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
    power: raw === "On" || raw === "PoweringOn" ? "On" : "Off",
    rawPower: raw,
    ...(typeof reset?.target === "string" ? { resetTarget: reset.target } : {}),
    resetTypes: types,
  };
}

const PREFER: Readonly<Record<"on" | "off", readonly string[]>> = {
  on: ["On", "ForceOn", "PushPowerButton"],
  off: ["ForceOff", "GracefulShutdown", "PushPowerButton"],
};

/** Powers the host `want` through its BMC and waits until its BMC reports it. */
async function powerHost(
  client: RedfishClient,
  host: HostServer,
  sys: HostSystem,
  want: "on" | "off",
  log: Logger,
): Promise<HostSystem> {
  const type =
    sys.resetTypes.length === 0 ? PREFER[want][0] : PREFER[want].find((t) => sys.resetTypes.includes(t));
  if (!type || !sys.resetTarget)
    throw new DpuError(
      "DPU_REDFISH_UNSUPPORTED",
      `power ${want} the host server (${sys.path} on BMC ${client.origin}): no suitable ResetType; the BMC allows ${sys.resetTypes.join(", ") || "none"}`,
    );
  await client.post(
    sys.resetTarget,
    { ResetType: type },
    { action: `power ${want} the host server (${type})` },
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
 * Power-cycles the host through its BMC and leaves it as found (NVIDIA "BlueField Modes of Operation
 * Configuration", step 3: the mode change completes with a power cycle from the host): found On, it is powered
 * off, then on; found Off, it is powered on (the cycle that completes the change), then off again. Each
 * transition is waited for until the host BMC reports it.
 */
export async function powerCycleHost(
  client: RedfishClient,
  host: HostServer,
  found: HostSystem,
  log: Logger,
): Promise<HostSystem> {
  if (found.power === "On") {
    const off = await powerHost(client, host, found, "off", log);
    return powerHost(client, host, off, "on", log);
  }
  const on = await powerHost(client, host, found, "on", log);
  return powerHost(client, host, on, "off", log);
}
