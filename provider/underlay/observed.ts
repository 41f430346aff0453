import { canonicalCidr, canonicalIp, isIp } from "./cidr";
import type { UnderlayRecord } from "./record";

/** One link as the DPU reports it. */
export interface ObservedLink {
  readonly name: string;
  readonly mac: string;
  readonly mtu: number;
  /** Administratively up (flag UP). */
  readonly up: boolean;
  /** Kernel operstate (`UP`, `DOWN`, `LOWERLAYERDOWN`, `UNKNOWN`…). */
  readonly operstate: string;
  readonly kind?: string;
  readonly vlanId?: number;
  readonly parent?: string;
  /** Global-scope addresses, canonical CIDR text. */
  readonly addresses: readonly string[];
}

/** One unicast route. `destination` is `default`, `default6` or a canonical CIDR; `table` undefined = main. */
export interface ObservedRoute {
  readonly destination: string;
  readonly via?: string;
  readonly dev?: string;
  readonly metric?: number;
  readonly table?: number;
}

/** Which persistence backends the DPU has. */
export interface Backends {
  readonly netplan: boolean;
  readonly networkmanager: boolean;
  readonly networkd: boolean;
}

/** Everything one read round trip observes. */
export interface ObservedState {
  readonly links: readonly ObservedLink[];
  readonly routes: readonly ObservedRoute[];
  readonly hostname: string;
  readonly resolv: string;
  readonly record?: UnderlayRecord;
  /** Server-side address of the SSH session (from SSH_CONNECTION), when the shell exposed it. */
  readonly sshServerAddress?: string;
  /** Client-side address of the SSH session as the DPU sees it (the provider, or the last jump host). */
  readonly sshClientAddress?: string;
  readonly backends: Backends;
}

interface RawLink {
  ifname?: string;
  address?: string;
  mtu?: number;
  flags?: string[];
  operstate?: string;
  link?: string;
  linkinfo?: { info_kind?: string; info_data?: { id?: number } };
}
interface RawAddr {
  ifname?: string;
  addr_info?: { family?: string; local?: string; prefixlen?: number; scope?: string }[];
}
interface RawRoute {
  type?: string;
  dst?: string;
  gateway?: string;
  dev?: string;
  metric?: number;
  table?: string;
}

const b64 = (s: unknown) => (typeof s === "string" ? Buffer.from(s, "base64").toString("utf8") : "");

function parseRoutes(raw: RawRoute[], family: 4 | 6): ObservedRoute[] {
  const out: ObservedRoute[] = [];
  for (const r of raw) {
    if ((r.type ?? "unicast") !== "unicast" || r.dst === undefined) continue;
    if (r.table !== undefined && (r.table === "local" || r.table === "255" || r.table === "default"))
      continue;
    const destination =
      r.dst === "default"
        ? family === 4
          ? "default"
          : "default6"
        : canonicalCidr(r.dst.includes("/") ? r.dst : `${r.dst}/${family === 4 ? 32 : 128}`);
    const table = r.table === undefined || r.table === "main" ? undefined : Number(r.table);
    out.push({
      destination,
      ...(r.gateway !== undefined ? { via: canonicalIp(r.gateway) } : {}),
      ...(r.dev !== undefined ? { dev: r.dev } : {}),
      ...(r.metric !== undefined ? { metric: r.metric } : {}),
      ...(table !== undefined && Number.isFinite(table) ? { table } : {}),
    });
  }
  return out;
}

/** Parses the JSON document printed by READ_SCRIPT. */
export function parseObserved(json: string): ObservedState {
  const doc = JSON.parse(json) as {
    links: RawLink[];
    addrs: RawAddr[];
    routes4: RawRoute[];
    routes6: RawRoute[];
    hostname: string;
    resolv: string;
    record: string;
    sshConnection: string;
    backends: Backends;
  };
  const addrs = new Map<string, string[]>();
  for (const a of doc.addrs) {
    const list = (a.addr_info ?? [])
      .filter((i) => i.scope === "global" && i.local !== undefined && i.prefixlen !== undefined)
      .map((i) => canonicalCidr(`${i.local}/${i.prefixlen}`));
    if (a.ifname) addrs.set(a.ifname, list);
  }
  const links: ObservedLink[] = doc.links
    .filter((l) => typeof l.ifname === "string")
    .map((l) => {
      const name = l.ifname as string;
      const kind = l.linkinfo?.info_kind;
      return {
        name,
        mac: (l.address ?? "").toLowerCase(),
        mtu: l.mtu ?? 0,
        up: (l.flags ?? []).includes("UP"),
        operstate: l.operstate ?? "UNKNOWN",
        ...(kind !== undefined ? { kind } : {}),
        ...(kind === "vlan" && l.linkinfo?.info_data?.id !== undefined
          ? { vlanId: l.linkinfo.info_data.id }
          : {}),
        ...(kind === "vlan" && l.link !== undefined ? { parent: l.link } : {}),
        addresses: addrs.get(name) ?? [],
      };
    });
  const recordText = b64(doc.record).trim();
  let record: UnderlayRecord | undefined;
  if (recordText !== "") {
    try {
      record = JSON.parse(recordText) as UnderlayRecord;
    } catch {
      record = undefined;
    }
  }
  const sshConn = b64(doc.sshConnection).trim().split(/\s+/);
  return {
    links,
    routes: [...parseRoutes(doc.routes4, 4), ...parseRoutes(doc.routes6, 6)],
    hostname: b64(doc.hostname).trim(),
    resolv: b64(doc.resolv),
    ...(record !== undefined ? { record } : {}),
    ...(sshConn.length >= 3 && sshConn[2] && isIp(sshConn[2])
      ? { sshServerAddress: canonicalIp(sshConn[2]) }
      : {}),
    ...(sshConn.length >= 3 && sshConn[0] && isIp(sshConn[0])
      ? { sshClientAddress: canonicalIp(sshConn[0]) }
      : {}),
    backends: doc.backends,
  };
}
