import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { Client } from "ssh2";
import { Agent, request } from "undici";
import type { EndpointsFile } from "../../simulator/contracts";
import { skipUnless } from "../capabilities";

/** Debian's Chromium, driven by playwright-core. */
export const CHROMIUM = "/usr/bin/chromium";

/** True when the dashboard tests must be skipped; under CI a missing prerequisite throws instead. */
export function skipDashboard(): boolean {
  return skipUnless("dashboard tests", "lab", "chromium");
}

/** One DPU entry of an endpoints file. */
export type DpuEndpoint = EndpointsFile["dpus"][number];

/** Runs `cmd` on `dpu` over SSH with the endpoints' key, pinning its host key; resolves to exit code and output. */
export function ssh(
  dpu: DpuEndpoint,
  cmd: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const pinned = dpu.ssh.hostKeyFingerprint;
  return new Promise((resolve, reject) => {
    const c = new Client();
    c.once("error", reject);
    c.once("ready", () => {
      c.exec(cmd, (err, stream) => {
        if (err) {
          c.end();
          return reject(err);
        }
        let stdout = "";
        let stderr = "";
        let code = -1;
        stream.on("data", (d: Buffer) => {
          stdout += d.toString();
        });
        stream.stderr.on("data", (d: Buffer) => {
          stderr += d.toString();
        });
        stream.on("exit", (n: number | null) => {
          code = n ?? -1;
        });
        stream.on("close", () => {
          c.end();
          resolve({ code, stdout, stderr });
        });
      });
    });
    c.connect({
      host: dpu.ssh.host,
      port: dpu.ssh.port,
      username: dpu.ssh.username,
      privateKey: readFileSync(dpu.ssh.privateKeyFile),
      readyTimeout: 10_000,
      hostVerifier: (key: Buffer) =>
        `SHA256:${createHash("sha256").update(key).digest("base64").replace(/=+$/, "")}` === pinned,
    });
  });
}

/** A plain Redfish `ComputerSystem.Reset` (Basic authentication, lab CA); resolves to the HTTP status. */
export async function redfishReset(dpu: DpuEndpoint, resetType: string): Promise<number> {
  const agent = new Agent({ connect: { ca: readFileSync(dpu.bmc.caCertFile, "utf8") } });
  try {
    const auth = Buffer.from(`${dpu.bmc.username}:${dpu.bmc.password}`).toString("base64");
    const res = await request(
      `${dpu.bmc.url}/redfish/v1/Systems/${dpu.bmc.systemId}/Actions/ComputerSystem.Reset`,
      {
        method: "POST",
        dispatcher: agent,
        headers: { authorization: `Basic ${auth}`, "content-type": "application/json" },
        body: JSON.stringify({ ResetType: resetType }),
      },
    );
    await res.body.dump();
    return res.statusCode;
  } finally {
    await agent.close();
  }
}

/** Polls `fn` until it returns something other than `undefined`; fails after `timeoutMs`. */
export async function until<T>(
  what: string,
  fn: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 10_000,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
