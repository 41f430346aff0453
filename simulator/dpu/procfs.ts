import { readdirSync, readFileSync, readlinkSync, statSync } from "node:fs";

/** Inode of the network namespace pinned at `/run/netns/<name>`, or `undefined` when it does not exist. */
export function netnsInode(name: string): number | undefined {
  try {
    return statSync(`/run/netns/${name}`).ino;
  } catch {
    return undefined;
  }
}

/**
 * Host pids of every process whose network namespace is one of `inodes` (what `ip netns pids` reports),
 * grouped by inode. Reads /proc directly, so checking many namespaces costs one scan.
 */
export function pidsInNetns(inodes: ReadonlySet<number>): Map<number, number[]> {
  const out = new Map<number, number[]>();
  if (inodes.size === 0) return out;
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return out;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    let link: string;
    try {
      link = readlinkSync(`/proc/${e}/ns/net`);
    } catch {
      continue;
    }
    const m = /^net:\[(\d+)\]$/.exec(link);
    if (!m) continue;
    const ino = Number(m[1]);
    if (!inodes.has(ino)) continue;
    const list = out.get(ino) ?? [];
    list.push(Number(e));
    out.set(ino, list);
  }
  return out;
}

/** Process info from /proc/<pid>/status: command name and pids in every nested pid namespace. */
export interface ProcInfo {
  readonly pid: number;
  readonly comm: string;
  /** `NSpid` values, outermost first; the last is the pid inside the process's own pid namespace. */
  readonly nsPids: readonly number[];
}

/** Reads {@link ProcInfo} for `pid`, or `undefined` if it has exited. */
export function procInfo(pid: number): ProcInfo | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const comm = /^Name:\s*(.*)$/m.exec(status)?.[1] ?? "";
    const nsPids = (/^NSpid:\s*(.*)$/m.exec(status)?.[1] ?? String(pid))
      .trim()
      .split(/\s+/)
      .map((s) => Number(s));
    return { pid, comm, nsPids };
  } catch {
    return undefined;
  }
}

/** Start time of `pid` in clock ticks since boot (field 22 of /proc/<pid>/stat), or `undefined`. */
export function procStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return rest[19];
  } catch {
    return undefined;
  }
}

/** Sends `signal` to `pid`, ignoring a process that is already gone. */
export function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already exited
  }
}
