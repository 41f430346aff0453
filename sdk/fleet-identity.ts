import type * as pulumi from "@pulumi/pulumi";
import type { DpuHostArgs } from "./dpu-host";
import type { DpuHostIdentityArgs } from "./generated/types";

/** One DPU's own part of its Day-0 identity, read from its inventory row. */
export interface DpuRowIdentity {
  /** Host name of the DPU OS (RFC 1123), e.g. `dpu-0.fleet.lab`. */
  readonly hostname: pulumi.Input<string>;
  /**
   * Static management address with prefix length, e.g. `198.18.0.10/24`; the node's connections use it. Left
   * out: the management interface takes DHCP (then every connection needs its own `host`).
   */
  readonly managementAddress?: pulumi.Input<string>;
  /** Default gateway of `managementAddress` (default: the fleet's `gateway`). */
  readonly gateway?: pulumi.Input<string>;
  /** Keys authorized on this DPU only, after the fleet's operator keys. */
  readonly authorizedKeys?: readonly pulumi.Input<string>[];
  /** Management interface name on this DPU (default: the fleet's `managementInterface`). */
  readonly managementInterface?: pulumi.Input<string>;
}

/**
 * What a fleet declares once for every DPU's Day-0 identity (the image is shared, each row brings the rest):
 * the operator's keys, the management interface, the image stage, and how to read a row's own identity.
 *
 * @typeParam E - the inventory row type.
 */
export interface DpuFleetIdentity<E> {
  /** Operator public keys (OpenSSH lines) authorized on every DPU, before each row's own keys. */
  readonly authorizedKeys: readonly pulumi.Input<string>[];
  /** Management interface name as the DPU OS sees it, e.g. `oob_net0` (BlueField) or `eth0`. */
  readonly managementInterface: pulumi.Input<string>;
  /** Default gateway of the rows' static management addresses. */
  readonly gateway?: pulumi.Input<string>;
  /** DNS servers of every DPU. */
  readonly nameservers?: readonly pulumi.Input<string>[];
  /**
   * `generate` (default): the provider generates each DPU's SSH host key, seeds it, and the node's connections
   * are pinned to it before first contact. `image`: the image makes its own key, trusted on first use.
   */
  readonly hostKey?: "generate" | "image";
  /**
   * Image stage the BMCs fetch the per-DPU seeds from (a node template's own `host.stage` wins); or a function
   * of the row, e.g. a stage per rack. One `builtin` stage serves the whole fleet: installs running at the same
   * time share the provider's server on its port, each adding its own objects and removing them when it ends.
   */
  readonly stage:
    | NonNullable<DpuHostArgs["stage"]>
    | ((entry: E, index: number) => NonNullable<DpuHostArgs["stage"]>);
  /**
   * A row's own identity. Default: {@link identityFromRow}, which reads the row fields `hostname`,
   * `managementAddress`, `gateway`, `authorizedKeys` and `managementInterface`.
   */
  readonly row?: (entry: E, index: number) => DpuRowIdentity;
}

/** A row field as a string, or `undefined` when absent; anything else is refused naming the row and field. */
function field(entry: Readonly<Record<string, unknown>>, key: string, where: string): string | undefined {
  const v = entry[key];
  if (v === undefined || v === null || v === "") return undefined;
  if (typeof v !== "string") throw new Error(`${where}: ${key} must be a string (got ${JSON.stringify(v)})`);
  return v;
}

/**
 * Reads a row's identity from its fields: `hostname` (required), `managementAddress` (CIDR; absent: DHCP),
 * `gateway`, `managementInterface`, `authorizedKeys` (a list, or in CSV one cell of keys separated by new lines
 * or `;`).
 *
 * @throws Error naming the row when `hostname` is missing or a field has the wrong type.
 */
export function identityFromRow(
  entry: { readonly name: string },
  where = `row ${entry.name}`,
): DpuRowIdentity {
  const row = entry as Readonly<Record<string, unknown>>;
  const hostname = field(row, "hostname", where);
  if (hostname === undefined) throw new Error(`${where}: hostname is required for the fleet's identity`);
  const keys = row.authorizedKeys;
  let authorizedKeys: string[] | undefined;
  if (typeof keys === "string") {
    authorizedKeys = keys
      .split(/[\n;]/)
      .map((k) => k.trim())
      .filter((k) => k !== "");
  } else if (Array.isArray(keys) && keys.every((k) => typeof k === "string")) authorizedKeys = keys;
  else if (keys !== undefined && keys !== null) {
    throw new Error(`${where}: authorizedKeys must be a list of OpenSSH public key lines`);
  }
  const managementAddress = field(row, "managementAddress", where);
  const gateway = field(row, "gateway", where);
  const managementInterface = field(row, "managementInterface", where);
  return {
    hostname,
    ...(managementAddress !== undefined ? { managementAddress } : {}),
    ...(gateway !== undefined ? { gateway } : {}),
    ...(authorizedKeys !== undefined ? { authorizedKeys } : {}),
    ...(managementInterface !== undefined ? { managementInterface } : {}),
  };
}

/** The DpuHost `identity` of one row: the fleet's defaults with the row's own part. */
export function rowIdentity(defaults: DpuFleetIdentity<never>, own: DpuRowIdentity): DpuHostIdentityArgs {
  const gateway = own.gateway ?? defaults.gateway;
  const management: DpuHostIdentityArgs["management"] =
    own.managementAddress !== undefined
      ? {
          interface: own.managementInterface ?? defaults.managementInterface,
          addresses: [own.managementAddress],
          ...(gateway !== undefined ? { gateway } : {}),
          ...(defaults.nameservers ? { nameservers: [...defaults.nameservers] } : {}),
        }
      : {
          interface: own.managementInterface ?? defaults.managementInterface,
          dhcp: true,
          ...(defaults.nameservers ? { nameservers: [...defaults.nameservers] } : {}),
        };
  return {
    hostname: own.hostname,
    // A key both the fleet and the row list is authorized once.
    authorizedKeys: [...new Set([...defaults.authorizedKeys, ...(own.authorizedKeys ?? [])])],
    management,
    hostKey: defaults.hostKey ?? "generate",
  };
}
