import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { request } from "node:https";
import { Client } from "ssh2";
import type { EndpointsFile } from "../../simulator/contracts";
import { skipUnless } from "../capabilities";

/**
 * Returns true when lab tests must be skipped. Under CI a missing prerequisite is an error, never a skip.
 */
export function skipLab(): boolean {
  return skipUnless("sim-lab tests", "lab");
}

/** One DPU entry of an endpoints file. */
export type DpuEndpoint = EndpointsFile["dpus"][number];

/** Output of a command run over SSH. */
export interface SshResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** `SHA256:<base64 no padding>` of a raw SSH public key blob. */
export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`;
}

/**
 * Opens an SSH connection to `dpu` with its private key, verifying the host key against `hostKeyFingerprint`
 * (default: the endpoints file's).
 */
export function sshConnect(
  dpu: DpuEndpoint,
  hostKeyFingerprint = dpu.ssh.hostKeyFingerprint,
): Promise<Client> {
  return new Promise((resolve, reject) => {
    const c = new Client();
    c.once("ready", () => resolve(c));
    c.once("error", reject);
    c.connect({
      host: dpu.ssh.host,
      port: dpu.ssh.port,
      username: dpu.ssh.username,
      privateKey: readFileSync(dpu.ssh.privateKeyFile),
      readyTimeout: 10_000,
      hostVerifier: (key: Buffer) => fingerprint(key) === hostKeyFingerprint,
    });
  });
}

/** Runs `cmd` on an open connection. */
export function sshExecOn(c: Client, cmd: string): Promise<SshResult> {
  return new Promise((resolve, reject) => {
    c.exec(cmd, (err, stream) => {
      if (err) return reject(err);
      let stdout = "";
      let stderr = "";
      let code = -1;
      stream.on("data", (d: Buffer) => {
        stdout += d.toString();
      });
      stream.stderr.on("data", (d: Buffer) => {
        stderr += d.toString();
      });
      stream.on("exit", (c2: number | null) => {
        code = c2 ?? -1;
      });
      stream.on("close", () => resolve({ code, stdout, stderr }));
    });
  });
}

/** Connects, runs `cmd`, disconnects. */
export async function ssh(dpu: DpuEndpoint, cmd: string, hostKeyFingerprint?: string): Promise<SshResult> {
  const c = await sshConnect(dpu, hostKeyFingerprint);
  try {
    return await sshExecOn(c, cmd);
  } finally {
    c.end();
  }
}

/** A Redfish response. */
export interface HttpReply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: unknown;
}

/** Reads a dotted path (`Boot.BootSourceOverrideEnabled`) out of a JSON value. */
export function pick(value: unknown, path: string): unknown {
  let v = value;
  for (const k of path.split(".")) {
    if (typeof v !== "object" || v === null) return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  return v;
}

/** One plain HTTPS request to a BMC (trusting the lab CA). */
export function rf(
  dpu: DpuEndpoint,
  method: string,
  path: string,
  opts: { token?: string; body?: unknown } = {},
): Promise<HttpReply> {
  const url = new URL(path, dpu.bmc.url);
  const data = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body));
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        ca: readFileSync(dpu.bmc.caCertFile),
        headers: {
          Accept: "application/json",
          ...(data ? { "Content-Type": "application/json", "Content-Length": data.length } : {}),
          ...(opts.token ? { "X-Auth-Token": opts.token } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let body: unknown = text;
          try {
            body = text ? JSON.parse(text) : undefined;
          } catch {
            body = text;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
        });
      },
    );
    req.on("error", reject);
    req.end(data);
  });
}

/** Logs in (POST SessionService/Sessions) and returns the X-Auth-Token. */
export async function login(dpu: DpuEndpoint): Promise<string> {
  const r = await rf(dpu, "POST", "/redfish/v1/SessionService/Sessions", {
    body: { UserName: dpu.bmc.username, Password: dpu.bmc.password },
  });
  if (r.status !== 201) throw new Error(`login failed: ${r.status} ${JSON.stringify(r.body)}`);
  return String(r.headers["x-auth-token"]);
}

/** Polls `fn` until it returns a value other than `undefined`, or fails after `timeoutMs`. */
export async function until<T>(
  what: string,
  fn: () => Promise<T | undefined>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** JSON request to the lab control API. */
export async function control(
  base: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: unknown }> {
  const res = await fetch(new URL(path, base), {
    method,
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as unknown };
}
