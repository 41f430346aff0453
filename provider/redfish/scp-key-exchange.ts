import { DpuError } from "../errors/dpu-error";
import { pinnedFingerprint } from "../ssh/fingerprint";
import { scanHostKey } from "../ssh/host-key-scan";
import type { RedfishClient } from "./client";
import type { Json } from "./messages";

/*
 * NVIDIA BlueField BMC, "Deploying Software Using BFB" › "Setting Up Secure Connection" (BMC software 24.x/25.x,
 * docs.nvidia.com/networking/display/bluefieldbmcv2510/deploying-software-using-bfb) and NVIDIA bmcweb's
 * PublicKeyExchange handler: before an SCP SimpleUpdate the BMC must be given the SCP server's public key
 * (`POST …/Actions/Oem/NvidiaUpdateService.PublicKeyExchange` with `RemoteServerIP` and
 * `RemoteServerKeyString: "<type> <key>"`, as `ssh-keyscan` prints it); the BMC answers with its own public key
 * (`@Message.ExtendedInfo[0].MessageArgs[0]`), which goes into `~/.ssh/authorized_keys` of the transfer user on
 * the server. The transfer itself authenticates with that key; there is no password.
 */

const EXCHANGE = "#NvidiaUpdateService.PublicKeyExchange";

/**
 * What a preview says about an `scp://` image whose server key is not pinned: the install will trust the key the
 * server offers then (on a BMC with PublicKeyExchange). Undefined for other images, or when `pinned` is set.
 */
export function scpTrustNote(url: string, pinned: string | undefined): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  if (u.protocol !== "scp:" || pinned) return undefined;
  return `image.scpHostKey is unset: at install the SCP server's host key will be read from ${u.hostname}:${u.port || 22} and TRUSTED ON FIRST USE (given to the BMC through PublicKeyExchange); pin it with image.scpHostKey (ssh-keyscan -t ed25519 ${u.hostname})`;
}

/** What the key exchange did: the key the BMC now trusts for the server, and the BMC's own key. */
export interface ScpKeyExchange {
  readonly serverHost: string;
  /** `<type> <key>` given to the BMC. */
  readonly serverKey: string;
  /** True when the key was read from the server now (nothing pinned it: trust on first use). */
  readonly trustedOnFirstUse: boolean;
  /** The BMC's SCP client key (`<type> <key> root@dpu-bmc`), for the server's authorized_keys. */
  readonly bmcPublicKey?: string;
}

function str(v: unknown): string | undefined {
  return typeof v === "string" && v.trim() !== "" ? v.trim() : undefined;
}

/** The PublicKeyExchange target an UpdateService body advertises under `Actions.Oem.Nvidia`, if any. */
export function exchangeTargetOf(updateService: Json): string | undefined {
  const nvidia = ((updateService.Actions as Json | undefined)?.Oem as Json | undefined)?.Nvidia as
    | Json
    | undefined;
  return str((nvidia?.[EXCHANGE] as Json | undefined)?.target);
}

/** The PublicKeyExchange target the BMC advertises under `UpdateService.Actions.Oem.Nvidia`, if any. */
async function exchangeTarget(client: RedfishClient, action: string): Promise<string | undefined> {
  return exchangeTargetOf((await client.get("/redfish/v1/UpdateService", { action })).body);
}

/** The server key to give the BMC: the pinned line, or the scanned one (checked against a pinned fingerprint). */
async function serverKeyOf(
  host: string,
  port: number,
  pinned: string | undefined,
  timeoutMs: number,
  action: string,
): Promise<{ key: string; tofu: boolean }> {
  const fields = pinned?.trim().split(/\s+/) ?? [];
  if (pinned && !pinned.trim().startsWith("SHA256:") && fields.length >= 2) {
    return { key: `${fields[0]} ${fields[1]}`, tofu: false };
  }
  let scanned: string;
  try {
    scanned = (await scanHostKey(host, port, timeoutMs)).keyLine;
  } catch (e) {
    throw new DpuError(
      "DPU_SSH_CONNECT",
      `${action}: could not read the SCP server's host key from ${host}:${port} (${e instanceof Error ? e.message : String(e)}); set image.scpHostKey to the server's public key line (ssh-keyscan -t ed25519 ${host})`,
    );
  }
  if (pinned && pinnedFingerprint(scanned) !== pinnedFingerprint(pinned)) {
    throw new DpuError(
      "DPU_SSH_HOST_KEY_MISMATCH",
      `${action}: the SCP server ${host}:${port} offers host key ${pinnedFingerprint(scanned)}, not the pinned image.scpHostKey ${pinnedFingerprint(pinned)}; nothing was sent to the BMC`,
    );
  }
  return { key: scanned, tofu: !pinned };
}

/**
 * Gives the BMC the SCP server's public key through NVIDIA's PublicKeyExchange, when the BMC advertises it
 * (undefined otherwise: nothing to do). `pinned` is `image.scpHostKey` (a public key line, or a `SHA256:`
 * fingerprint the scanned key must match); without it the key is read from the server (trust on first use,
 * reported as such through `onProgress`).
 */
export async function exchangeScpKeys(
  client: RedfishClient,
  url: string,
  opts: {
    readonly pinned?: string;
    readonly timeoutMs: number;
    readonly username?: string;
    readonly onProgress?: (line: string) => void;
    /** The exchange target as discovery read it from the UpdateService (then not read again). */
    readonly known?: { readonly target?: string };
  },
): Promise<ScpKeyExchange | undefined> {
  const action = "exchange SCP keys via NvidiaUpdateService.PublicKeyExchange";
  const target = opts.known ? opts.known.target : await exchangeTarget(client, action);
  if (!target) return undefined;
  const u = new URL(url);
  const host = u.hostname.replace(/^\[|\]$/g, "");
  const port = u.port ? Number(u.port) : 22;
  const { key, tofu } = await serverKeyOf(
    host,
    port,
    opts.pinned,
    Math.min(opts.timeoutMs, 15_000),
    `${action} on BMC ${client.origin}`,
  );
  opts.onProgress?.(
    tofu
      ? `SCP server ${host}:${port} host key ${pinnedFingerprint(key)} TRUSTED ON FIRST USE (read from the server now, not pinned: set image.scpHostKey to pin it)`
      : `SCP server ${host}:${port} host key ${pinnedFingerprint(key)} (pinned by image.scpHostKey)`,
  );
  const res = await client.post(target, { RemoteServerIP: host, RemoteServerKeyString: key }, { action });
  const infos = res.body["@Message.ExtendedInfo"];
  const first = Array.isArray(infos) ? (infos[0] as Json | undefined) : undefined;
  const args = first?.MessageArgs;
  const bmcPublicKey = Array.isArray(args) ? str(args[0]) : undefined;
  if (bmcPublicKey) {
    opts.onProgress?.(
      `the BMC's SCP client key (add it to ~${opts.username ?? "root"}/.ssh/authorized_keys on ${host}): ${bmcPublicKey}`,
    );
  }
  return {
    serverHost: host,
    serverKey: key,
    trustedOnFirstUse: tofu,
    ...(bmcPublicKey ? { bmcPublicKey } : {}),
  };
}
