import { appendFile, mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join, posix } from "node:path";
import { exec } from "../exec";
import { HOST_KEY, OVERLAY_DIRS, PRIVATE_DIRS } from "../os-files";
import type { DayZeroIdentity } from "./types";

/** Where the DPU records the instance id of the seed it applied (cloud-init's path). */
export const INSTANCE_ID_FILE = "var/lib/cloud/data/instance-id";
/** Where the DPU renders a seed's network-config (what cloud-init writes on Ubuntu). */
export const NETPLAN_FILE = "etc/netplan/50-cloud-init.yaml";
/** The DPU's Day-0 log: what it applied from which seed, and what it could not. */
export const IDENTITY_LOG = "var/log/dpu-identity.log";
/** root's authorized keys file (the sshd configuration's `AuthorizedKeysFile`). */
export const ROOT_KEYS_FILE = "etc/ssh/authorized_keys.d/root";

/** Appends lines to the DPU's Day-0 log (on its disk: `upper` is the disk's root). */
export async function identityLog(upper: string, lines: readonly string[]): Promise<void> {
  if (lines.length === 0) return;
  const file = join(upper, IDENTITY_LOG);
  await mkdir(dirname(file), { recursive: true });
  const stamp = new Date().toISOString();
  await appendFile(file, lines.map((l) => `${stamp} ${l}\n`).join(""), { mode: 0o644 });
}

/** The instance id of the seed applied last, or undefined. */
export async function appliedInstanceId(upper: string): Promise<string | undefined> {
  try {
    return (await readFile(join(upper, INSTANCE_ID_FILE), "utf8")).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** The public half of an OpenSSH private key (`ssh-keygen -y`). */
async function publicKeyOf(privateKeyFile: string): Promise<string> {
  return (await exec("ssh-keygen", ["-y", "-f", privateKeyFile])).stdout.trim();
}

/** Writes root's password hash into the disk's /etc/shadow (copied from the image's on first change). */
async function setRootHash(upper: string, hash: string): Promise<void> {
  const file = join(upper, "etc", "shadow");
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    text = await readFile("/etc/shadow", "utf8").catch(() => "root:*:19000:0:99999:7:::\n");
  }
  const lines = text.split("\n").map((l) => {
    const f = l.split(":");
    if (f[0] !== "root") return l;
    f[1] = hash;
    return f.join(":");
  });
  await writeFile(file, lines.join("\n"), { mode: 0o640 });
}

/** The disk path of an absolute DPU path, when it lies on the DPU's disk (its overlays or private dirs). */
function diskPathOf(upper: string, path: string): string | undefined {
  if (!path.startsWith("/")) return undefined;
  const norm = posix.normalize(path);
  const top = norm.split("/")[1] ?? "";
  if (
    !(OVERLAY_DIRS as readonly string[]).includes(top) &&
    !(PRIVATE_DIRS as readonly string[]).includes(top)
  )
    return undefined;
  if (norm.split("/").length < 3) return undefined;
  return join(upper, norm);
}

/**
 * Applies a Day-0 seed to the DPU's disk (`upper` is the disk's root), as cloud-init's per-instance modules do:
 * hostname, root's authorized keys (replacing the image's default key), the ed25519 host key, root's password
 * hash, `write_files` (paths on the disk only), the network-config rendered for netplan, and the instance id.
 * Returns the log lines (names and paths, never key or file contents).
 */
export async function applyIdentity(upper: string, id: DayZeroIdentity): Promise<string[]> {
  const log: string[] = [`seed ${id.source}: instance-id ${id.instanceId ?? "(none)"}`];
  const etc = join(upper, "etc");
  if (id.hostname) {
    await writeFile(join(etc, "hostname"), `${id.hostname}\n`, { mode: 0o644 });
    log.push(`hostname ${id.hostname}`);
  }
  if (id.authorizedKeys) {
    await mkdir(dirname(join(upper, ROOT_KEYS_FILE)), { recursive: true, mode: 0o755 });
    await writeFile(join(upper, ROOT_KEYS_FILE), `${id.authorizedKeys.map((k) => k.trim()).join("\n")}\n`, {
      mode: 0o600,
    });
    log.push(`root: ${id.authorizedKeys.length} authorized key(s) from the seed replace the image's default`);
  }
  if (id.hostKey) {
    const priv = join(upper, HOST_KEY);
    await writeFile(
      priv,
      id.hostKey.privateKey.endsWith("\n") ? id.hostKey.privateKey : `${id.hostKey.privateKey}\n`,
      {
        mode: 0o600,
      },
    );
    const pub = id.hostKey.publicKey?.trim() || (await publicKeyOf(priv));
    await writeFile(`${priv}.pub`, `${pub}\n`, { mode: 0o644 });
    log.push("ssh host key: ed25519 from the seed");
  }
  if (id.rootPasswordHash) {
    await setRootHash(upper, id.rootPasswordHash);
    log.push("root: password hash from the seed");
  }
  for (const f of id.files) {
    const target = diskPathOf(upper, f.path);
    if (!target) {
      log.push(`write_files ${f.path}: outside the simulated image's writable disk, skipped`);
      continue;
    }
    await mkdir(dirname(target), { recursive: true });
    if (f.append) await appendFile(target, f.content, { mode: f.mode });
    else await writeFile(target, f.content, { mode: f.mode });
    log.push(`write_files ${f.path}`);
  }
  if (id.networkConfig) {
    await mkdir(join(etc, "netplan"), { recursive: true, mode: 0o755 });
    await writeFile(join(upper, NETPLAN_FILE), id.networkConfig, { mode: 0o600 });
    log.push(`network-config rendered to /${NETPLAN_FILE}`);
  }
  if (id.instanceId) {
    await mkdir(dirname(join(upper, INSTANCE_ID_FILE)), { recursive: true });
    await writeFile(join(upper, INSTANCE_ID_FILE), `${id.instanceId}\n`, { mode: 0o644 });
  }
  log.push(...id.notes);
  return log;
}
