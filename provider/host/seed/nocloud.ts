import { createHash } from "node:crypto";
import { isIPv6 } from "node:net";
import { stringify } from "yaml";
import type { GeneratedHostKey } from "../host-key";
import type { DpuIdentity } from "../identity.schema";

/**
 * The three documents of a cloud-init NoCloud seed, as cloud-init's NoCloud datasource reads them from a volume
 * labelled `cidata` (or from `/var/lib/cloud/seed/nocloud-net/` on the installed disk, where BlueField BFB
 * installs put them): `meta-data` (YAML: `instance-id`, `local-hostname`), `user-data` (`#cloud-config`) and
 * `network-config` (network configuration version 2, netplan-style).
 *
 * Key names: cloud-init documentation (NoCloud datasource; modules cc_set_hostname/cc_update_hostname
 * `hostname`/`preserve_hostname`, cc_ssh `ssh_authorized_keys`/`disable_root`/`ssh_keys`/`ssh_deletekeys`,
 * cc_set_passwords `chpasswd.users` (cloud-init ≥ 22.3), cc_write_files `write_files`; "Networking config
 * Version 2"). Checked with `cloud-init schema --config-file` (cloud-init 22.4.2, Debian 12).
 */
export interface NoCloudSeed {
  readonly metaData: string;
  readonly userData: string;
  readonly networkConfig: string;
  /** True when a document holds a secret (password hash, private host key, secret file): never keep it in state. */
  readonly holdsSecrets: boolean;
}

/** Deterministic YAML: the same identity gives the same bytes. */
function yaml(doc: unknown): string {
  return stringify(doc, { lineWidth: 0, indent: 2, sortMapEntries: false });
}

function networkConfig(identity: DpuIdentity): Record<string, unknown> {
  const m = identity.management;
  const iface: Record<string, unknown> = {};
  if (m.dhcp) {
    iface.dhcp4 = true;
  } else {
    iface.addresses = [...(m.addresses ?? [])];
    if (m.gateway !== undefined) {
      iface.routes = [{ to: isIPv6(m.gateway) ? "::/0" : "0.0.0.0/0", via: m.gateway }];
    }
  }
  if (m.nameservers !== undefined && m.nameservers.length > 0) {
    iface.nameservers = { addresses: [...m.nameservers] };
  }
  return { version: 2, ethernets: { [m.interface]: iface } };
}

function cloudConfig(identity: DpuIdentity, hostKey: GeneratedHostKey | undefined): Record<string, unknown> {
  const doc: Record<string, unknown> = {
    hostname: identity.hostname,
    preserve_hostname: false,
    // Root keeps the operator's keys as they are (cc_ssh prefixes them with a refusal when disable_root is true).
    disable_root: false,
    ssh_authorized_keys: [...identity.authorizedKeys],
  };
  if (hostKey !== undefined) {
    // Only the delivered key remains, so the fingerprint pinned before first contact is the one sshd presents.
    doc.ssh_deletekeys = true;
    // cc_ssh generates only the listed types whose key file is missing: ed25519 is the delivered one.
    doc.ssh_genkeytypes = ["ed25519"];
    doc.ssh_keys = { ed25519_private: hostKey.privateKey, ed25519_public: hostKey.publicKey };
  }
  if (identity.password !== undefined) {
    doc.chpasswd = {
      expire: false,
      users: [{ name: identity.password.user, password: identity.password.hash, type: "hash" }],
    };
  }
  if (identity.files !== undefined && identity.files.length > 0) {
    doc.write_files = identity.files.map((f) => ({
      path: f.path,
      // base64 keeps any content (leading spaces, `---`, binary-looking text) exact through YAML.
      encoding: "b64",
      content: Buffer.from(f.content, "utf8").toString("base64"),
      permissions: f.mode.length === 3 ? `0${f.mode}` : f.mode,
      owner: "root:root",
    }));
  }
  return doc;
}

/**
 * Renders the NoCloud seed of `identity`. `hostKey` is the generated host key when `identity.hostKey` is
 * `generate`. The `instance-id` is derived from the other documents, so a changed identity is a new instance
 * to cloud-init (its per-instance modules run again) and an unchanged one is not.
 */
export function renderNoCloud(identity: DpuIdentity, hostKey?: GeneratedHostKey): NoCloudSeed {
  if (identity.hostKey === "generate" && hostKey === undefined) {
    throw new TypeError("identity.hostKey is `generate` but no generated host key was given");
  }
  const userData = `#cloud-config\n${yaml(cloudConfig(identity, identity.hostKey === "generate" ? hostKey : undefined))}`;
  const network = yaml(networkConfig(identity));
  const digest = createHash("sha256").update(identity.hostname).update("\0").update(userData).update("\0");
  const instanceId = `iid-${identity.hostname.split(".")[0]}-${digest.update(network).digest("hex").slice(0, 16)}`;
  const metaData = yaml({ "instance-id": instanceId, "local-hostname": identity.hostname });
  const holdsSecrets =
    identity.password !== undefined ||
    identity.hostKey === "generate" ||
    (identity.files ?? []).some((f) => f.secret);
  return { metaData, userData, networkConfig: network, holdsSecrets };
}
