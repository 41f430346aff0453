import { readFileSync } from "node:fs";
import { Agent, request } from "undici";
import type { EndpointsFile } from "../../simulator/contracts";

type Dpu = EndpointsFile["dpus"][number];
type Json = Record<string, unknown>;

/** Reset types that turn a system off, most direct first. */
const OFF_TYPES = ["ForceOff", "GracefulShutdown", "PushPowerButton"];

/**
 * Powers the DPU's system off with a plain Redfish call (Basic authentication, as an operator's curl would),
 * behind Pulumi's back: `ComputerSystem.Reset` with the first off ResetType the system allows, inline or in its
 * ActionInfo. Returns the ResetType sent.
 */
export async function powerOffBehindPulumi(d: Dpu, systemPath: string): Promise<string> {
  const dispatcher = new Agent({ connect: { ca: readFileSync(d.bmc.caCertFile, "utf8") } });
  const auth = `Basic ${Buffer.from(`${d.bmc.username}:${d.bmc.password}`).toString("base64")}`;
  const call = async (method: "GET" | "POST", path: string, body?: Json): Promise<Json> => {
    const r = await request(new URL(path, d.bmc.url), {
      method,
      dispatcher,
      headers: { authorization: auth, ...(body ? { "content-type": "application/json" } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await r.body.text();
    if (r.statusCode >= 300) throw new Error(`${method} ${path}: HTTP ${r.statusCode} ${text.slice(0, 300)}`);
    return text ? (JSON.parse(text) as Json) : {};
  };
  try {
    const sys = await call("GET", systemPath);
    const reset = ((sys.Actions ?? {}) as Json)["#ComputerSystem.Reset"] as Json | undefined;
    if (typeof reset?.target !== "string")
      throw new Error(`${systemPath} has no ComputerSystem.Reset action`);
    let allowed = reset["ResetType@Redfish.AllowableValues"] as string[] | undefined;
    const info = reset["@Redfish.ActionInfo"];
    if (!allowed && typeof info === "string") {
      const params = ((await call("GET", info)).Parameters ?? []) as Json[];
      allowed = params.find((p) => p.Name === "ResetType")?.AllowableValues as string[] | undefined;
    }
    const type = OFF_TYPES.find((t) => !allowed || allowed.includes(t));
    if (!type) throw new Error(`${systemPath} allows no off ResetType (allows ${allowed?.join(", ")})`);
    await call("POST", reset.target, { ResetType: type });
    return type;
  } finally {
    await dispatcher.close();
  }
}
