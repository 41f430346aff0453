/**
 * Peer benchmark floor: the same provisioning the peer tools do (insert the ISO, boot once from CD, restart,
 * wait for power On, eject), as bare requests back to back with one HTTP client (Node's `https`, one keep-alive
 * agent) and nothing else: no retries, no checks, no state. It knows what the others are told (BMC URL, system
 * id, image URL) and finds the virtual-media CD slot under the first manager, as a client must.
 * One process for all DPUs, like every peer tool. Inputs: `PEER_CONFIG` (a JSON file:
 * `{"pollMs", "dpus": [{"url", "caFile", "systemId", "image"}]}`), credentials in `REDFISH_USERNAME_<i>` /
 * `REDFISH_PASSWORD_<i>`. Prints one JSON line `{"ok", "errors"}`.
 */
import { readFileSync } from "node:fs";
import { Agent, request } from "node:https";

interface PeerDpu {
  readonly url: string;
  readonly caFile: string;
  readonly systemId: string;
  readonly image: string;
}

type Body = Record<string, unknown>;

function call(agent: Agent, auth: string, url: string, method: string, body?: unknown): Promise<Body> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = request(
      url,
      {
        method,
        agent,
        headers: {
          Authorization: auth,
          Accept: "application/json",
          ...(payload ? { "Content-Type": "application/json", "Content-Length": payload.length } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          if ((res.statusCode ?? 0) >= 300) {
            reject(new Error(`${method} ${new URL(url).pathname}: HTTP ${res.statusCode}`));
            return;
          }
          resolve(text ? (JSON.parse(text) as Body) : {});
        });
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

const idOf = (v: unknown): string => ((v ?? {}) as { "@odata.id"?: string })["@odata.id"] ?? "";
const members = (b: Body): string[] => ((b.Members as unknown[] | undefined) ?? []).map(idOf);

async function provision(i: number, d: PeerDpu, pollMs: number): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1, ca: readFileSync(d.caFile, "utf8") });
  const user = process.env[`REDFISH_USERNAME_${i}`] ?? "";
  const pass = process.env[`REDFISH_PASSWORD_${i}`] ?? "";
  const auth = `Basic ${Buffer.from(`${user}:${pass}`).toString("base64")}`;
  const at = (p: string) => `${d.url}${p}`;
  try {
    const managers = await call(agent, auth, at("/redfish/v1/Managers"), "GET");
    const manager = await call(agent, auth, at(members(managers)[0] ?? ""), "GET");
    const vms = await call(agent, auth, at(idOf(manager.VirtualMedia)), "GET");
    let slot: Body | undefined;
    for (const m of members(vms)) {
      const s = await call(agent, auth, at(m), "GET");
      if (((s.MediaTypes as string[] | undefined) ?? []).some((t) => t === "CD" || t === "DVD")) {
        slot = s;
        break;
      }
    }
    if (!slot) throw new Error("no virtual-media CD slot");
    const actions = slot.Actions as Record<string, { target: string }>;
    await call(agent, auth, at(actions["#VirtualMedia.InsertMedia"]!.target), "POST", {
      Image: d.image,
      Inserted: true,
      WriteProtected: true,
    });
    const sys = `/redfish/v1/Systems/${d.systemId}`;
    await call(agent, auth, at(sys), "PATCH", {
      Boot: { BootSourceOverrideEnabled: "Once", BootSourceOverrideTarget: "Cd" },
    });
    await call(agent, auth, at(`${sys}/Actions/ComputerSystem.Reset`), "POST", { ResetType: "ForceRestart" });
    for (;;) {
      const s = await call(agent, auth, at(sys), "GET");
      if (s.PowerState === "On") break;
      await new Promise((r) => setTimeout(r, pollMs));
    }
    await call(agent, auth, at(actions["#VirtualMedia.EjectMedia"]!.target), "POST", {});
  } finally {
    agent.destroy();
  }
}

async function main(): Promise<void> {
  const cfg = JSON.parse(readFileSync(process.env.PEER_CONFIG ?? "", "utf8")) as {
    pollMs: number;
    dpus: PeerDpu[];
  };
  const errors: string[] = [];
  await Promise.all(
    cfg.dpus.map((d, i) =>
      provision(i, d, cfg.pollMs).catch((e: unknown) =>
        errors.push(`DPU ${i}: ${e instanceof Error ? e.message : String(e)}`),
      ),
    ),
  );
  process.stdout.write(`${JSON.stringify({ ok: errors.length === 0, errors })}\n`);
  process.exitCode = errors.length === 0 ? 0 : 1;
}

void main();
