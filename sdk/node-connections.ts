import * as pulumi from "@pulumi/pulumi";
import type { DpuHostArgs } from "./dpu-host";
import type {
  DpuHostIdentityArgs,
  DpuHostReadyArgs,
  DpuHostReadySshArgs,
  SshConnectionArgs,
} from "./generated/types";

/**
 * An SSH connection of a {@link DpuNode} step: {@link SshConnectionArgs} whose `host` may be left out when the
 * node's host has an `identity` with a static management address (the node then connects to that address).
 */
export type NodeConnectionArgs = Omit<SshConnectionArgs, "host"> & {
  /** Host name or IP address of the SSH server. Default: the first static address of `host.identity.management`. */
  host?: pulumi.Input<string>;
};

/** A step of a {@link DpuNode} (its underlay or a workload): the step's arguments, the connection's host optional. */
export type NodeStepArgs<T extends { connection: unknown }> = Omit<T, "connection"> & {
  /** How to reach the DPU; `host` defaults to the seeded management address, `hostKey` to the host's pin. */
  connection: T["connection"] | NodeConnectionArgs;
};

/** The SSH readiness probe of a {@link DpuNode}'s host, its `host` optional like {@link NodeConnectionArgs}. */
export type NodeReadySshArgs = Omit<DpuHostReadySshArgs, "host"> & {
  /** Address of the DPU OS's SSH server. Default: the first static address of `identity.management`. */
  host?: pulumi.Input<string>;
};

/** The host of a {@link DpuNode}: {@link DpuHostArgs}, `ready.ssh.host` optional when `identity` seeds one. */
export type NodeHostArgs = Omit<DpuHostArgs, "ready"> & {
  /** When the DPU counts as provisioned; `ssh.host` defaults to the seeded management address. */
  ready?: DpuHostArgs["ready"] | (Omit<DpuHostReadyArgs, "ssh"> & { ssh?: NodeReadySshArgs });
};

/** `198.18.0.10/24` → `198.18.0.10`. */
function addressOf(cidr: string): string {
  return cidr.replace(/\/\d+$/, "");
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !pulumi.Output.isInstance(v) && !(v instanceof Promise);
}

/**
 * The address a node reaches its DPU on, as its identity seeds it: the first static management address without
 * its prefix. `undefined` when there is no identity; when the identity takes DHCP or is not known yet (an
 * Output), an Output that fails naming the node if there is no static address.
 */
export function seededAddress(
  node: string,
  identity: pulumi.Input<DpuHostIdentityArgs | undefined> | undefined,
): pulumi.Input<string> | undefined {
  if (identity === undefined) return undefined;
  const none = `DpuNode ${node}: a connection without host needs a static management address in host.identity (it takes DHCP or has none); give connection.host`;
  if (isPlainObject(identity) && isPlainObject(identity.management)) {
    const m = identity.management;
    const list = m.addresses;
    if (m.dhcp === true || list === undefined || (Array.isArray(list) && list.length === 0)) {
      throw new Error(none);
    }
    if (Array.isArray(list) && typeof list[0] === "string") return addressOf(list[0]);
  }
  return pulumi.output(identity).apply((id) => {
    const first = id?.management.addresses?.[0];
    if (id?.management.dhcp === true || first === undefined) throw new Error(none);
    return addressOf(first);
  });
}

/**
 * A step's arguments with `connection.host` filled from the seeded address when left out, and `connection.hostKey`
 * set to the host's pin (`hostKeyFingerprint`) when left out. A connection given as an Output is left alone.
 */
export function nodeConnection<T extends { connection: unknown }>(
  node: string,
  step: NodeStepArgs<T>,
  address: () => pulumi.Input<string> | undefined,
  hostKey: pulumi.Output<string | undefined>,
): T {
  const c: unknown = step.connection;
  if (!isPlainObject(c)) return step as unknown as T;
  const host = c.host ?? address();
  if (host === undefined) {
    throw new Error(`DpuNode ${node}: connection.host is not set and host.identity seeds no address`);
  }
  return { ...step, connection: { ...c, host, ...("hostKey" in c ? {} : { hostKey }) } } as unknown as T;
}

/** The host's arguments with `ready.ssh.host` filled from the seeded address when left out. */
export function nodeHost(
  node: string,
  host: NodeHostArgs,
  address: () => pulumi.Input<string> | undefined,
): DpuHostArgs {
  const ready: unknown = host.ready;
  if (!isPlainObject(ready) || !isPlainObject(ready.ssh) || ready.ssh.host !== undefined) {
    return host as DpuHostArgs;
  }
  const seeded = address();
  if (seeded === undefined) {
    throw new Error(`DpuNode ${node}: ready.ssh.host is not set and host.identity seeds no address`);
  }
  return { ...host, ready: { ...ready, ssh: { ...ready.ssh, host: seeded } } } as DpuHostArgs;
}
