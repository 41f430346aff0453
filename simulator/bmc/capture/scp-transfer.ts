import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateEd25519KeyPair } from "../../dpu/ssh-keys";
import { actionBody, stringParam } from "../actions";
import type { BmcContext } from "../context";
import { httpError, message } from "../errors";
import { identifyImage } from "../fetch-image";
import { type FetchedUpdate, updateOf } from "../resources/update-service";
import { TaskFailure } from "../task-manager";
import type { CaptureModel } from "./model";
import type { CaptureRouter } from "./router";

/*
 * The BlueField BMC's SCP transfer and its key exchange, as NVIDIA documents them:
 * - NVIDIA BlueField BMC Software, "Deploying Software Using BFB" › "BFB Installation" › "Setting Up Secure
 *   Connection" (docs.nvidia.com/networking/display/bluefieldbmcv2510/deploying-software-using-bfb): the operator
 *   reads the SCP server's host key (`ssh-keyscan`), hands it to the BMC with
 *   `POST /redfish/v1/UpdateService/Actions/Oem/NvidiaUpdateService.PublicKeyExchange`
 *   `{"RemoteServerIP": …, "RemoteServerKeyString": "<type> <key>"}`, and adds the public key the BMC answers with
 *   (`@Message.ExtendedInfo[0].MessageArgs[0]`, `… root@dpu-bmc`) to `~/.ssh/authorized_keys` on the server.
 * - NVIDIA bmcweb's design note for the SCP update (PublicKeyExchange, RevokeAllRemoteServerPublicKeys,
 *   SimpleUpdateActionInfo: `ImageURI` is `<ServerIP>/<BFBPath>`, `Username` authenticates the transfer; no
 *   password: "key-based authentication … without the need to handle and store the user's password"), and its
 *   handler `handlePublicKeyExchangePost` (the body checks and answer reproduced below). The transfer is
 *   non-interactive, against the known_hosts the exchange wrote (StrictHostKeyChecking).
 * The simulator runs OpenSSH's real `scp` (the BMC uses dropbear's); OpenSSH's words reach the task.
 */

const EXCHANGE = "NvidiaUpdateService.PublicKeyExchange";
const REVOKE = "NvidiaUpdateService.RevokeAllRemoteServerPublicKeys";
const KEY_PATTERN = /^\S+\s+\S+$/;
const MAX_STDERR = 2048;

/** The BMC's SCP client material: its key pair (made at the first exchange) and its known_hosts. */
interface ScpClient {
  readonly dir: string;
  publicKey?: string;
  /** Remote server address → `<type> <key>` lines given through PublicKeyExchange. */
  readonly known: Map<string, string[]>;
}

const clients = new WeakMap<BmcContext, ScpClient>();

function clientOf(c: BmcContext): ScpClient {
  let s = clients.get(c);
  if (!s) {
    const dir = mkdtempSync(join(tmpdir(), "sim-bmc-scp-"));
    s = { dir, known: new Map() };
    clients.set(c, s);
    c.signal.addEventListener("abort", () => rmSync(dir, { recursive: true, force: true }), { once: true });
  }
  return s;
}

function writeKnownHosts(s: ScpClient): string {
  const file = join(s.dir, "known_hosts");
  const lines = [...s.known].flatMap(([ip, keys]) => keys.map((k) => `${ip} ${k}`));
  writeFileSync(file, lines.length > 0 ? `${lines.join("\n")}\n` : "", { mode: 0o600 });
  return file;
}

/** GenerateSelfKeyPair: the existing key, or a new ed25519 pair (bmcweb: `dropbearkey -t ed25519`). */
function selfPublicKey(s: ScpClient): string {
  if (s.publicKey) return s.publicKey;
  const pair = generateEd25519KeyPair("root@dpu-bmc");
  writeFileSync(join(s.dir, "id_ed25519"), pair.privateKey, { mode: 0o600 });
  s.publicKey = pair.publicKey.split(/\s+/).slice(0, 2).join(" ");
  return s.publicKey;
}

function actionTarget(m: CaptureModel, action: string): string | undefined {
  const us = m.tree.resources.get("/redfish/v1/UpdateService");
  if (us?.kind !== "json") return undefined;
  const oem = (us.body.Actions as { Oem?: { Nvidia?: Record<string, { target?: unknown }> } } | undefined)
    ?.Oem?.Nvidia?.[`#${action}`];
  return typeof oem?.target === "string" ? oem.target : undefined;
}

/**
 * The OEM actions the capture advertises under `UpdateService.Actions.Oem.Nvidia`: PublicKeyExchange (stores the
 * server key for `RemoteServerIP`, answers the BMC's own public key) and RevokeAllRemoteServerPublicKeys.
 */
export function registerScpKeyExchange(r: CaptureRouter, c: BmcContext, m: CaptureModel): void {
  const exchange = actionTarget(m, EXCHANGE);
  if (exchange) {
    r.overlay.add(exchange, {
      POST: ({ body }) => {
        const rec = actionBody(body, EXCHANGE, { required: ["RemoteServerIP", "RemoteServerKeyString"] });
        const ip = stringParam(rec, "RemoteServerIP", EXCHANGE) as string;
        const key = (stringParam(rec, "RemoteServerKeyString", EXCHANGE) as string).trim();
        // bmcweb: the key string must match "<type> <key>" (\S+\s+\S+), else ActionParameterValueTypeError.
        if (!KEY_PATTERN.test(key) || /[\r\n]/.test(ip) || ip.trim() === "") {
          throw httpError(
            400,
            "ActionParameterValueTypeError",
            [key, "RemoteServerKeyString", EXCHANGE],
            ["#/RemoteServerKeyString"],
          );
        }
        const s = clientOf(c);
        const keys = s.known.get(ip) ?? [];
        const line = key.split(/\s+/).join(" ");
        if (!keys.includes(line)) s.known.set(ip, [...keys, line]);
        const own = selfPublicKey(s);
        return {
          status: 200,
          body: {
            "@Message.ExtendedInfo": [
              {
                "@odata.type": "#Message.v1_1_1.Message",
                Message:
                  "Please add the following public key info to ~/.ssh/authorized_keys on the remote server",
                MessageArgs: [`${own} root@dpu-bmc`],
              },
              message("Success"),
            ],
          },
        };
      },
    });
  }
  const revoke = actionTarget(m, REVOKE);
  if (revoke) {
    r.overlay.add(revoke, {
      POST: ({ body }) => {
        const rec = actionBody(body, REVOKE, { required: ["RemoteServerIP"] });
        clientOf(c).known.delete(stringParam(rec, "RemoteServerIP", REVOKE) as string);
        return { status: 200, body: { "@Message.ExtendedInfo": [message("Success")] } };
      },
    });
  }
}

/** `host[:port]` and path of an `scp://` URL the SimpleUpdate handler built from `<ServerIP>/<BFBPath>`. */
function target(url: string): { host: string; port: string; path: string } {
  const u = new URL(url);
  return {
    host: u.hostname.replace(/^\[|\]$/g, ""),
    port: u.port || "22",
    path: decodeURIComponent(u.pathname),
  };
}

/**
 * Pulls `url` (`scp://<ServerIP>[:port]/<path>`) as `username` with the real `scp`: the BMC's own key only
 * (BatchMode, no password prompt), StrictHostKeyChecking against the keys given through PublicKeyExchange for
 * that address (HostKeyAlias: the exchange names an IP, not a port). A refusal ends the task with scp's words.
 */
export async function fetchOverScp(
  c: BmcContext,
  url: string,
  username: string | undefined,
): Promise<FetchedUpdate> {
  const s = clientOf(c);
  const t = target(url);
  const knownHosts = writeKnownHosts(s);
  const dest = join(s.dir, `transfer-${Date.now()}`);
  const args = [
    "-B",
    "-o",
    "LogLevel=ERROR",
    "-o",
    "BatchMode=yes",
    "-o",
    "StrictHostKeyChecking=yes",
    "-o",
    `UserKnownHostsFile=${knownHosts}`,
    "-o",
    "GlobalKnownHostsFile=/dev/null",
    "-o",
    `HostKeyAlias=${t.host}`,
    "-o",
    "IdentitiesOnly=yes",
    "-o",
    "ConnectTimeout=10",
    "-F",
    "/dev/null",
    "-i",
    join(s.dir, "id_ed25519"),
    "-P",
    t.port,
    "--",
    `${username ?? "root"}@${t.host.includes(":") ? `[${t.host}]` : t.host}:${t.path}`,
    dest,
  ];
  const stderr = await new Promise<{ code: number | null; text: string }>((resolve, reject) => {
    const p = spawn("scp", args, { stdio: ["ignore", "ignore", "pipe"], signal: c.signal });
    let text = "";
    p.stderr.on("data", (d: Buffer) => {
      if (text.length < MAX_STDERR) text += d.toString("utf8");
    });
    p.on("error", reject);
    p.on("close", (code) => resolve({ code, text: text.slice(0, MAX_STDERR) }));
  });
  try {
    if (stderr.code !== 0) {
      const words =
        stderr.text
          .trim()
          .split(/\r?\n|\r/)
          .filter(Boolean)
          .join(" ") || `scp exited ${stderr.code}`;
      throw new TaskFailure(
        {
          ...message("CouldNotEstablishConnection", [url]),
          Resolution: `SCP transfer from ${t.host} failed: ${words}. Give the server's public key through ${EXCHANGE} and add the BMC's public key to ~/.ssh/authorized_keys of ${username ?? "root"} on the server.`,
        },
        400,
      );
    }
    return updateOf(identifyImage(url, await readFile(dest)));
  } finally {
    rmSync(dest, { force: true });
  }
}
