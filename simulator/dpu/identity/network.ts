import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { exec, ipBatch } from "../exec";
import { mgmtNetworkOf } from "./nocloud";

/** The management port's addresses and default gateway for one boot. */
export interface MgmtAddressing {
  /** CIDR addresses; the first IPv4 one is where sshd listens first. */
  readonly cidrs: readonly string[];
  readonly gateway4?: string;
  /** Why the DPU did not take the configured addressing (DHCP without a server), for its log. */
  readonly notes: readonly string[];
}

/**
 * The management addressing the DPU's disk asks for: its netplan documents (`/etc/netplan/*.yaml` on the disk, in
 * name order) for `iface`, else the image's default (`fallbackCidr`). `dhcp4` gets the default too: the lab runs
 * no DHCP server, and the DPU logs that it kept the lab's address.
 */
export async function mgmtAddressingOf(
  upper: string,
  iface: string,
  mac: string,
  fallbackCidr: string,
): Promise<MgmtAddressing> {
  const dir = join(upper, "etc", "netplan");
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith(".yaml")).sort();
  const docs = await Promise.all(names.map((n) => readFile(join(dir, n), "utf8")));
  const notes: string[] = [];
  const cfg = mgmtNetworkOf(docs, iface, mac, notes);
  if (!cfg) return { cidrs: [fallbackCidr], notes };
  const statics = cfg.addresses.filter((a) => /^[0-9a-f.:]+\/\d+$/i.test(a));
  if (statics.length === 0) {
    notes.push(
      cfg.dhcp4
        ? `${iface}: dhcp4 requested; the lab runs no DHCP server, so ${iface} keeps the lab's address ${fallbackCidr}`
        : `${iface}: no usable address configured; keeping the image's default ${fallbackCidr}`,
    );
    return { cidrs: [fallbackCidr], notes };
  }
  const gw = cfg.gateway4 && /^[0-9a-f.:]+$/i.test(cfg.gateway4) ? cfg.gateway4 : undefined;
  if (cfg.gateway4 && !gw)
    notes.push(`${iface}: gateway ${JSON.stringify(cfg.gateway4)} is not an address, ignored`);
  return { cidrs: statics, ...(gw ? { gateway4: gw } : {}), notes };
}

interface IpAddrInfo {
  addr_info?: { local?: string; prefixlen?: number; scope?: string }[];
}

/**
 * Gives `iface` in `netns` exactly `want` (global scope) and the default gateway, as the DPU's network service
 * does at boot. Nothing changes when the port already has them.
 */
export async function applyMgmtAddressing(netns: string, iface: string, want: MgmtAddressing): Promise<void> {
  const out = await exec("ip", ["-n", netns, "-j", "addr", "show", "dev", iface]);
  const info = JSON.parse(out.stdout || "[]") as IpAddrInfo[];
  const have = new Set(
    (info[0]?.addr_info ?? [])
      .filter((a) => a.scope === "global" && a.local)
      .map((a) => `${a.local}/${a.prefixlen}`),
  );
  const lines: string[] = [];
  const same = have.size === want.cidrs.length && want.cidrs.every((c) => have.has(c));
  if (!same) {
    lines.push(`addr flush dev ${iface} scope global`);
    for (const c of want.cidrs) lines.push(`addr add ${c} dev ${iface}`);
  }
  if (want.gateway4) lines.push(`route replace default via ${want.gateway4} dev ${iface}`);
  if (lines.length > 0) await ipBatch(lines, ["-n", netns]);
}

/** The address part of a CIDR. */
export function addressOf(cidr: string): string {
  return cidr.split("/")[0] ?? cidr;
}
