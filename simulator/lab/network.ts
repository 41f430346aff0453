import { readdirSync } from "node:fs";
import { ipBatch, mapLimit, sleep } from "../dpu/exec";
import { netnsInode, pidsInNetns, procInfo, signalPid } from "../dpu/procfs";
import { OBJECT_PREFIX, type SlotPlan } from "./address-plan";

/** How many `ip` processes run at once while configuring DPU namespaces. */
const IP_CONCURRENCY = 8;

/**
 * Creates the kernel objects of a lab: the management bridge (root namespace), the ToR namespace with its
 * bridge, and per DPU a namespace with `oob_net0` (veth to the management bridge) and `p0`/`p1` (veths to the
 * ToR bridge). One `ip -batch` for the root namespace, one for the ToR, one per DPU (bounded concurrency).
 * DPUs whose index is in `vmIndexes` get nothing here: a VM backend brings its own taps at each boot.
 */
export async function buildNetwork(
  plan: SlotPlan,
  count: number,
  vmIndexes: ReadonlySet<number> = new Set(),
): Promise<void> {
  const dpus = Array.from({ length: count }, (_, i) => plan.dpu(i)).filter((d) => !vmIndexes.has(d.index));
  const root: string[] = [`netns add ${plan.torNetns}`, ...dpus.map((d) => `netns add ${d.netns}`)];
  root.push(
    `link add ${plan.bridge} address ${plan.bridgeMac} type bridge`,
    `addr add ${plan.bridgeIp}/${plan.prefixLength} dev ${plan.bridge}`,
    `link set ${plan.bridge} up`,
    `link add ${plan.torBridge} netns ${plan.torNetns} address ${plan.torBridgeMac} type bridge`,
  );
  for (const d of dpus) {
    const [oob, p0, p1] = d.ports;
    root.push(
      `link add ${d.hostLink} address ${d.hostLinkMac} type veth peer name oob_net0 netns ${d.netns} address ${oob!.mac}`,
      `link set ${d.hostLink} master ${plan.bridge} up`,
      `link add ${d.torLinks[0]} netns ${plan.torNetns} address ${d.torLinkMacs[0]} type veth peer name p0 netns ${d.netns} address ${p0!.mac}`,
      `link add ${d.torLinks[1]} netns ${plan.torNetns} address ${d.torLinkMacs[1]} type veth peer name p1 netns ${d.netns} address ${p1!.mac}`,
    );
  }
  await ipBatch(root);
  const tor = ["link set lo up", `link set ${plan.torBridge} up`];
  for (const d of dpus) {
    for (const l of d.torLinks) tor.push(`link set ${l} master ${plan.torBridge} up`);
  }
  await ipBatch(tor, ["-n", plan.torNetns]);
  await mapLimit(dpus, IP_CONCURRENCY, (d) =>
    ipBatch(
      [
        "link set lo up",
        `addr add ${d.mgmtIp}/${plan.prefixLength} dev oob_net0`,
        "link set oob_net0 up",
        "link set p0 up",
        "link set p1 up",
      ],
      ["-n", d.netns],
    ),
  );
}

/** Network namespaces (names under /run/netns) that belong to lab slot `slot`. */
export function slotNamespaces(slot: number): string[] {
  try {
    return readdirSync("/run/netns").filter((n) => n.startsWith(`${OBJECT_PREFIX}${slot}-`));
  } catch {
    return [];
  }
}

/** Root-namespace links that belong to lab slot `slot` (`pds<slot>br`, `pds<slot>m<i>`). */
export function slotRootLinks(slot: number): string[] {
  const re = new RegExp(`^${OBJECT_PREFIX}${slot}(br|m\\d+)$`);
  try {
    return readdirSync("/sys/class/net").filter((n) => re.test(n));
  } catch {
    return [];
  }
}

/**
 * Kills every process left in the given namespaces: first the init of each nested pid namespace (which takes
 * its whole namespace down), then anything else. Resolves when none remains (or after `timeoutMs`).
 */
export async function killNamespaceProcesses(
  namespaces: readonly string[],
  timeoutMs = 15_000,
): Promise<void> {
  const inodes = new Set<number>();
  for (const n of namespaces) {
    const ino = netnsInode(n);
    if (ino !== undefined) inodes.add(ino);
  }
  const deadline = Date.now() + timeoutMs;
  let first = true;
  for (;;) {
    const pids = [...pidsInNetns(inodes).values()].flat();
    if (pids.length === 0) return;
    if (Date.now() > deadline)
      throw new Error(`processes still running in lab namespaces: ${pids.join(", ")}`);
    if (first) {
      for (const pid of pids) {
        const info = procInfo(pid);
        if (info && info.nsPids.length > 1 && info.nsPids[info.nsPids.length - 1] === 1)
          signalPid(pid, "SIGKILL");
      }
      first = false;
    } else {
      for (const pid of pids) signalPid(pid, "SIGKILL");
    }
    await sleep(20);
  }
}

/**
 * Removes every kernel object of lab slot `slot` found by name: processes in its namespaces, root links, and
 * the namespaces themselves. Safe to call when nothing exists.
 */
export async function teardownSlot(slot: number): Promise<void> {
  const namespaces = slotNamespaces(slot);
  await killNamespaceProcesses(namespaces);
  const lines = [
    ...slotRootLinks(slot).map((l) => `link del dev ${l}`),
    ...namespaces.map((n) => `netns del ${n}`),
  ];
  await ipBatch(lines, [], true);
  const left = [...slotRootLinks(slot), ...slotNamespaces(slot)];
  if (left.length > 0) throw new Error(`could not remove lab objects: ${left.join(", ")}`);
}

/** Runs `fn` for each DPU index with the lab's usual concurrency bound. */
export function forEachDpu<T>(count: number, limit: number, fn: (index: number) => Promise<T>): Promise<T[]> {
  return mapLimit(
    Array.from({ length: count }, (_, i) => i),
    limit,
    (i) => fn(i),
  );
}
