import { parse } from "yaml";
import type { DayZeroIdentity, MgmtNetwork, SeedFile } from "./types";

/** The three NoCloud files, as text (absent ones undefined). */
export interface NoCloudFiles {
  readonly metaData?: string;
  readonly userData?: string;
  readonly networkConfig?: string;
}

type Json = Record<string, unknown>;

/** A host name: dot-separated RFC 1123 labels. */
const HOSTNAME_RE =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

const isObj = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);
const strList = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === "string" && x.trim() !== "") : [];

function yamlObject(text: string | undefined, what: string, notes: string[]): Json {
  if (text === undefined || text.trim() === "") return {};
  try {
    const doc: unknown = parse(text);
    if (isObj(doc)) return doc;
    notes.push(`${what}: not a YAML mapping, ignored`);
  } catch (e) {
    notes.push(
      `${what}: invalid YAML, ignored (${e instanceof Error ? e.message.split("\n")[0] : String(e)})`,
    );
  }
  return {};
}

/** cloud-init `write_files` entries (`content` with `encoding` b64/base64 or text; `permissions` octal string). */
function writeFiles(v: unknown, notes: string[]): SeedFile[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) {
    notes.push("write_files: not a list, ignored");
    return [];
  }
  const out: SeedFile[] = [];
  for (const e of v) {
    const path = isObj(e) ? str(e.path) : undefined;
    if (!isObj(e) || !path) {
      notes.push("write_files: an entry without a path, ignored");
      continue;
    }
    const encoding = str(e.encoding) ?? "text/plain";
    const raw = typeof e.content === "string" ? e.content : "";
    let content: Buffer;
    if (encoding === "b64" || encoding === "base64") content = Buffer.from(raw, "base64");
    else if (encoding === "text/plain") content = Buffer.from(raw, "utf8");
    else {
      notes.push(`write_files ${path}: encoding ${encoding} not supported by the simulated image, skipped`);
      continue;
    }
    const perm = str(e.permissions) ?? "0644";
    const mode = /^0?[0-7]{3,4}$/.test(perm) ? Number.parseInt(perm, 8) : 0o644;
    out.push({ path, content, mode, append: e.append === true });
  }
  return out;
}

/** The `users` entries' parts for root (the simulated image's only login user). */
function rootUser(v: unknown, notes: string[]): { keys: string[]; hash?: string } {
  const keys: string[] = [];
  let hash: string | undefined;
  if (!Array.isArray(v)) return { keys };
  for (const u of v) {
    if (u === "default") continue;
    if (!isObj(u) || !str(u.name)) continue;
    if (u.name !== "root") {
      notes.push(`users: ${String(u.name)} not created (the simulated image has root only)`);
      continue;
    }
    keys.push(...strList(u.ssh_authorized_keys));
    hash = str(u.hashed_passwd) ?? str(u.passwd) ?? hash;
  }
  return { keys, ...(hash ? { hash } : {}) };
}

/** root's hash from cloud-init `chpasswd.users` (`type: hash`); other users are noted, not created. */
function chpasswdRootHash(v: unknown, notes: string[]): string | undefined {
  if (!isObj(v) || !Array.isArray(v.users)) return undefined;
  let hash: string | undefined;
  for (const u of v.users) {
    if (!isObj(u) || !str(u.name)) continue;
    if (u.name !== "root")
      notes.push(`chpasswd: ${String(u.name)} not set (the simulated image has root only)`);
    else if (u.type === "hash" && str(u.password)) hash = str(u.password);
    else notes.push("chpasswd: root's password is not a hash (type: hash), not set");
  }
  return hash;
}

/**
 * Reads a NoCloud seed (cloud-init's documented keys): meta-data `instance-id`, `local-hostname`; user-data
 * `#cloud-config` with `hostname`/`fqdn`, `ssh_authorized_keys`, `ssh_keys.ed25519_private`/`ed25519_public`,
 * `users` (root's `hashed_passwd`, `ssh_authorized_keys`), `chpasswd.users` (root, `type: hash`) and
 * `write_files`; network-config kept as text (it is
 * applied the way netplan would, see {@link mgmtNetworkOf}).
 */
export function parseNoCloud(files: NoCloudFiles, source: string): DayZeroIdentity {
  const notes: string[] = [];
  const meta = yamlObject(files.metaData, "meta-data", notes);
  let user: Json = {};
  if (files.userData !== undefined && files.userData.trim() !== "") {
    if (/^#cloud-config[ \t]*\r?\n/.test(files.userData))
      user = yamlObject(files.userData, "user-data", notes);
    else
      notes.push("user-data: not #cloud-config (scripts and MIME parts are not run by the simulated image)");
  }
  const sshKeys = isObj(user.ssh_keys) ? user.ssh_keys : {};
  const priv = str(sshKeys.ed25519_private);
  const pub = str(sshKeys.ed25519_public);
  const root = rootUser(user.users, notes);
  const chpasswd = chpasswdRootHash(user.chpasswd, notes);
  // One key per line: a value carrying a newline cannot add lines of its own.
  const keys = [...strList(user.ssh_authorized_keys), ...root.keys].map((k) =>
    k.replace(/[\r\n]+/g, " ").trim(),
  );
  const fqdn = str(user.fqdn);
  const asked = str(user.hostname) ?? (fqdn ? fqdn.split(".")[0] : undefined) ?? str(meta["local-hostname"]);
  // RFC 1123 labels: anything else (a newline, a shell character) is refused, not written to /etc/hostname.
  const hostname = asked && HOSTNAME_RE.test(asked) ? asked : undefined;
  if (asked && !hostname) notes.push(`hostname ${JSON.stringify(asked)} is not a valid host name, ignored`);
  for (const other of Object.keys(sshKeys)) {
    if (other !== "ed25519_private" && other !== "ed25519_public")
      notes.push(`ssh_keys.${other}: the simulated image's sshd uses an ed25519 host key only, ignored`);
  }
  return {
    source,
    ...(str(meta["instance-id"]) ? { instanceId: str(meta["instance-id"]) } : {}),
    ...(hostname ? { hostname } : {}),
    ...(keys.length > 0 ? { authorizedKeys: keys } : {}),
    ...(priv ? { hostKey: { privateKey: priv, ...(pub ? { publicKey: pub } : {}) } } : {}),
    ...((chpasswd ?? root.hash) ? { rootPasswordHash: chpasswd ?? root.hash } : {}),
    files: writeFiles(user.write_files, notes),
    ...(files.networkConfig !== undefined && files.networkConfig.trim() !== ""
      ? { networkConfig: files.networkConfig }
      : {}),
    notes,
  };
}

/** How `iface` (with MAC `mac`) is matched by a network-config v2 `ethernets` entry. */
function entryMatches(id: string, entry: Json, iface: string, mac: string): boolean {
  const match = isObj(entry.match) ? entry.match : undefined;
  if (!match) return id === iface;
  const m = str(match.macaddress);
  if (m && m.toLowerCase() !== mac.toLowerCase()) return false;
  const n = str(match.name);
  if (
    n &&
    !new RegExp(
      `^${n
        .replace(/[.+^${}()|[\]\\]/g, "\\$&")
        .replace(/\*/g, ".*")
        .replace(/\?/g, ".")}$`,
    ).test(iface)
  )
    return false;
  return m !== undefined || n !== undefined;
}

/**
 * The management interface's configuration in network-config / netplan documents (version 2, `ethernets`;
 * with or without the top-level `network:` key; later documents override earlier ones, as netplan merges
 * /etc/netplan/*.yaml in name order). `undefined` when no document configures `iface`.
 */
export function mgmtNetworkOf(
  docs: readonly string[],
  iface: string,
  mac: string,
  notes: string[],
): MgmtNetwork | undefined {
  let found: MgmtNetwork | undefined;
  for (const text of docs) {
    const top = yamlObject(text, "network-config", notes);
    const net = isObj(top.network) ? top.network : top;
    if (Object.keys(net).length === 0) continue;
    if (net.version !== 2) {
      notes.push(
        `network-config version ${String(net.version)}: only version 2 is read by the simulated image`,
      );
      continue;
    }
    const eths = isObj(net.ethernets) ? net.ethernets : {};
    for (const [id, entry] of Object.entries(eths)) {
      if (!isObj(entry) || !entryMatches(id, entry, iface, mac)) continue;
      const routes = Array.isArray(entry.routes) ? entry.routes.filter(isObj) : [];
      const def = routes.find((r) => r.to === "default" || r.to === "0.0.0.0/0");
      const gw = str(entry.gateway4) ?? (def ? str(def.via) : undefined);
      found = {
        dhcp4: entry.dhcp4 === true || entry.dhcp4 === "true" || entry.dhcp4 === "yes",
        addresses: strList(entry.addresses),
        ...(gw ? { gateway4: gw } : {}),
      };
    }
  }
  return found;
}
