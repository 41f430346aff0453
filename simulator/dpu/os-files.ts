import { createHash } from "node:crypto";
import type { BootImage } from "../contracts";
import { generateEd25519KeyPair } from "./ssh-keys";

/** Directories the DPU's disk overlays on the host's (the host's files are the "base image" below). */
export const OVERLAY_DIRS = ["etc", "var"] as const;
/** Directories the DPU's disk provides on their own (empty after install; host content stays hidden). */
export const PRIVATE_DIRS = ["opt", "root", "home", "srv"] as const;

/** Path of the sshd configuration inside the DPU. */
export const SSHD_CONFIG = "/etc/ssh/sshd_config.dpu";
/** Path of the DPU's ed25519 host key inside the DPU. */
export const HOST_KEY = "/etc/ssh/ssh_host_ed25519_key";

/** `1.1` from `DPUOS_1_1`, `4.10` from `bf-bundle-4.10`; `0` when the label carries no version. */
export function versionFromLabel(label: string): string {
  const m = /(\d+(?:[._]\d+)*)$/.exec(label);
  return m ? m[1]!.replace(/_/g, ".") : "0";
}

function q(v: string): string {
  return `"${v.replace(/["\\$`]/g, (c) => `\\${c}`)}"`;
}

/** /etc/os-release of a DPU running `image`: names the image label, version and sha256. */
export function osRelease(image: BootImage): string {
  const version = versionFromLabel(image.label);
  return [
    `NAME=${q("DPU Sim OS")}`,
    "ID=dpusim",
    `VERSION_ID=${q(version)}`,
    `VERSION=${q(`${version} (${image.label})`)}`,
    `PRETTY_NAME=${q(`DPU Sim OS ${version} (${image.label})`)}`,
    `IMAGE_ID=${q(image.label)}`,
    `IMAGE_VERSION=${q(version)}`,
    `BUILD_ID=${q(image.sha256.slice(0, 12))}`,
    `DPU_IMAGE_SHA256=${image.sha256}`,
    `DPU_IMAGE_KIND=${image.kind}`,
    `DPU_IMAGE_URL=${q(image.url)}`,
    "",
  ].join("\n");
}

/**
 * sshd configuration of a DPU: listens on the management address only (or on each of `mgmtIp`'s list, for the
 * lightweight lab's shared DPUs), keys only, no PAM.
 */
export function sshdConfig(mgmtIp: string | readonly string[]): string {
  const addresses = typeof mgmtIp === "string" ? [mgmtIp] : mgmtIp;
  return [
    "# Written by the DPU lab simulator at install time.",
    ...addresses.map((a) => `ListenAddress ${a}`),
    "Port 22",
    `HostKey ${HOST_KEY}`,
    "AuthorizedKeysFile /etc/ssh/authorized_keys.d/%u",
    "PermitRootLogin prohibit-password",
    "PasswordAuthentication no",
    "KbdInteractiveAuthentication no",
    "UsePAM no",
    "UseDNS no",
    "PrintMotd no",
    "PidFile /run/sshd.pid",
    "Subsystem sftp internal-sftp",
    "MaxStartups 256:30:512",
    "MaxSessions 64",
    "ClientAliveInterval 0",
    "",
  ].join("\n");
}

/** A fresh ed25519 host key pair in OpenSSH formats. */
export function newHostKey(comment: string): { privateKey: string; publicKey: string } {
  return generateEd25519KeyPair(comment);
}

/** `SHA256:<base64 without padding>` of an OpenSSH public key line, as `ssh-keygen -l` prints it. */
export function fingerprintOf(publicKeyLine: string): string {
  const blob = publicKeyLine.trim().split(/\s+/)[1];
  if (!blob) throw new Error("not an OpenSSH public key line");
  const digest = createHash("sha256").update(Buffer.from(blob, "base64")).digest("base64");
  return `SHA256:${digest.replace(/=+$/, "")}`;
}
