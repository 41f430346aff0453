/** A file a seed writes (cloud-init `write_files`). */
export interface SeedFile {
  /** Absolute path inside the DPU. */
  readonly path: string;
  readonly content: Buffer;
  /** Octal mode (`0644` when the seed names none). */
  readonly mode: number;
  /** Append instead of replace. */
  readonly append: boolean;
}

/** The management interface's configuration, from a netplan / cloud-init network-config version 2 entry. */
export interface MgmtNetwork {
  /** `dhcp4: true`. */
  readonly dhcp4: boolean;
  /** Static addresses in CIDR form. */
  readonly addresses: readonly string[];
  /** Default gateway (`gateway4`, or a route to `default` / `0.0.0.0/0`). */
  readonly gateway4?: string;
}

/**
 * What a DPU takes from a Day-0 seed: a NoCloud `cidata` volume (meta-data, user-data, network-config) or the
 * NoCloud seed a BFB's bf.cfg left on the disk. Every field is optional: what the seed leaves out stays as the
 * image has it.
 */
export interface DayZeroIdentity {
  /** Where it came from, for the DPU's log (`cidata medium <slot>`, `/var/lib/cloud/seed/nocloud-net`). */
  readonly source: string;
  /** meta-data `instance-id`: a seed is applied once per instance id (cloud-init's per-instance modules). */
  readonly instanceId?: string;
  /** user-data `hostname`/`fqdn`, else meta-data `local-hostname`. */
  readonly hostname?: string;
  /** root's authorized keys (`ssh_authorized_keys`, and those of a `users` entry named root). */
  readonly authorizedKeys?: readonly string[];
  /** `ssh_keys.ed25519_private` / `ed25519_public`: the host key sshd presents. */
  readonly hostKey?: { readonly privateKey: string; readonly publicKey?: string };
  /** A `users` entry named root: `hashed_passwd` (or its older name `passwd`). */
  readonly rootPasswordHash?: string;
  /** `write_files`. */
  readonly files: readonly SeedFile[];
  /** The network-config, as YAML text to store under /etc/netplan (what cloud-init renders on Ubuntu). */
  readonly networkConfig?: string;
  /** What the DPU could not honour, for its log. */
  readonly notes: readonly string[];
}
