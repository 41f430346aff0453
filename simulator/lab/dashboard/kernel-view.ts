import { exec } from "../../dpu/exec";
import type { AddressView, LinkView } from "./fleet-types";

/** Links the underlay view leaves out: loopback and the management port. */
const HIDDEN_LINKS = new Set(["lo", "oob_net0"]);
/** Most addresses listed per link. */
const MAX_ADDRESSES = 16;

interface IpAddrInfo {
  family?: string;
  local?: string;
  prefixlen?: number;
  scope?: string;
}
interface IpAddrLink {
  ifname?: string;
  operstate?: string;
  mtu?: number;
  address?: string;
  link?: string;
  linkinfo?: { info_kind?: string; info_data?: { id?: number } };
  addr_info?: IpAddrInfo[];
}

/** Parses `ip -d -j addr show` output into the links the dashboard shows (all but `lo` and `oob_net0`). */
export function parseIpAddr(json: string): LinkView[] {
  const parsed = JSON.parse(json || "[]") as unknown;
  if (!Array.isArray(parsed)) return [];
  const links: LinkView[] = [];
  for (const l of parsed as IpAddrLink[]) {
    if (!l.ifname || HIDDEN_LINKS.has(l.ifname)) continue;
    const addresses: AddressView[] = [];
    for (const a of l.addr_info ?? []) {
      if ((a.family !== "inet" && a.family !== "inet6") || !a.local) continue;
      addresses.push({
        family: a.family,
        cidr: `${a.local}/${a.prefixlen ?? ""}`,
        scope: a.scope ?? "global",
      });
    }
    const kind = l.linkinfo?.info_kind;
    const vlanId = kind === "vlan" ? l.linkinfo?.info_data?.id : undefined;
    links.push({
      name: l.ifname,
      operstate: l.operstate ?? "UNKNOWN",
      mtu: l.mtu ?? 0,
      ...(l.address ? { mac: l.address } : {}),
      ...(kind ? { kind } : {}),
      ...(vlanId !== undefined ? { vlanId } : {}),
      // A veth's `link` is its peer (outside the DPU), not a lower device.
      ...(l.link && kind !== "veth" ? { parent: l.link } : {}),
      addresses: addresses.slice(0, MAX_ADDRESSES),
    });
  }
  const rank = (n: string): number => (n === "p0" ? 0 : n === "p1" ? 1 : 2);
  return links.sort((a, b) => rank(a.name) - rank(b.name) || a.name.localeCompare(b.name));
}

/** The links of network namespace `netns` with their addresses, MTU and state, as the kernel reports them. */
export async function readLinks(netns: string): Promise<LinkView[]> {
  const r = await exec("ip", ["-n", netns, "-d", "-j", "addr", "show"], { timeoutMs: 3000 });
  return parseIpAddr(r.stdout);
}

/** The UTS hostname of the DPU whose init has host pid `initPid`. */
export async function readHostname(initPid: number): Promise<string> {
  const r = await exec("nsenter", ["-t", String(initPid), "-u", "hostname"], { timeoutMs: 2000 });
  return r.stdout.trim();
}
