import { readFileSync } from "node:fs";
import { netnsInode, pidsInNetns, procInfo } from "../../dpu/procfs";
import type { WorkloadView } from "./fleet-types";

/** Longest command line the dashboard shows. */
export const MAX_COMMAND_CHARS = 160;
/** Most workloads listed per DPU. */
export const MAX_WORKLOADS = 20;
/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on every Linux architecture in use). */
const USER_HZ = 100;

/** What one /proc scan found for one DPU. */
export interface DpuProcesses {
  /** Host pid of the DPU's init (PID 1 of its pid namespace), when found. */
  readonly initPid?: number;
  /** True when the process named by the DPU's /run/sshd.pid is alive and is sshd. */
  readonly sshdListening: boolean;
  readonly workloads: readonly WorkloadView[];
}

interface Proc {
  readonly hostPid: number;
  readonly ppid: number;
  readonly comm: string;
  readonly nsPids: readonly number[];
  readonly startTicks: number;
}

let bootTimeMs: number | undefined;

/** Boot time of the machine, ms since the epoch (`btime` of /proc/stat). */
function machineBootMs(): number {
  if (bootTimeMs === undefined) {
    const m = /^btime\s+(\d+)$/m.exec(readFileSync("/proc/stat", "utf8"));
    bootTimeMs = m ? Number(m[1]) * 1000 : 0;
  }
  return bootTimeMs;
}

function readProc(hostPid: number): Proc | undefined {
  const info = procInfo(hostPid);
  if (!info) return undefined;
  let stat: string;
  try {
    stat = readFileSync(`/proc/${hostPid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // Fields after "(comm) ": state ppid … starttime is the 20th of them.
  const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return {
    hostPid,
    ppid: Number(rest[1]),
    comm: info.comm,
    nsPids: info.nsPids,
    startTicks: Number(rest[19]),
  };
}

function commandLine(hostPid: number, comm: string): string {
  let text = "";
  try {
    text = readFileSync(`/proc/${hostPid}/cmdline`, "utf8").replace(/\0+$/, "").replaceAll("\0", " ");
  } catch {
    // exited
  }
  if (text === "") text = `[${comm}]`;
  return text.length > MAX_COMMAND_CHARS ? `${text.slice(0, MAX_COMMAND_CHARS - 1)}…` : text;
}

function sshdPidFile(initPid: number): number | undefined {
  try {
    const n = Number(readFileSync(`/proc/${initPid}/root/run/sshd.pid`, "utf8").trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/** Classifies the processes of one DPU. */
function classify(procs: readonly Proc[]): DpuProcesses {
  // Host tools that only entered the network namespace (`ip -n`) stay in the host's pid namespace: skip them.
  const own = procs.filter((p) => p.nsPids.length >= 2);
  let init: Proc | undefined;
  for (const p of own) {
    if (p.nsPids[p.nsPids.length - 1] !== 1) continue;
    if (!init || p.nsPids.length < init.nsPids.length) init = p;
  }
  if (!init) return { sshdListening: false, workloads: [] };
  const level = init.nsPids.length - 1;
  const sshdNsPid = sshdPidFile(init.hostPid);
  const listener = own.find((p) => p.nsPids[level] === sshdNsPid && p.comm === "sshd");
  const workloads: WorkloadView[] = [];
  for (const p of own) {
    if (p === init || p.comm.startsWith("sshd") || p.nsPids.length <= level) continue;
    const command = commandLine(p.hostPid, p.comm);
    // The init's idle loop (tini's child).
    if (p.ppid === init.hostPid && command === "sleep infinity") continue;
    workloads.push({
      pid: p.nsPids[level]!,
      command,
      startedAt: Math.round(machineBootMs() + (p.startTicks * 1000) / USER_HZ),
    });
  }
  workloads.sort((a, b) => a.pid - b.pid);
  return {
    initPid: init.hostPid,
    sshdListening: listener !== undefined,
    workloads: workloads.slice(0, MAX_WORKLOADS),
  };
}

/**
 * Processes of each DPU in `netnsNames`, found with one scan of /proc: the DPU's processes are those whose
 * network namespace is the DPU's and that live in the DPU's pid namespace. Excluded from the workloads: the
 * DPU's init (tini), its `sleep infinity` and every sshd.
 */
export function scanDpuProcesses(netnsNames: readonly string[]): Map<string, DpuProcesses> {
  const byInode = new Map<number, string>();
  for (const name of netnsNames) {
    const ino = netnsInode(name);
    if (ino !== undefined) byInode.set(ino, name);
  }
  const out = new Map<string, DpuProcesses>();
  const pids = pidsInNetns(new Set(byInode.keys()));
  for (const [ino, name] of byInode) {
    const procs: Proc[] = [];
    for (const pid of pids.get(ino) ?? []) {
      const p = readProc(pid);
      if (p) procs.push(p);
    }
    out.set(name, classify(procs));
  }
  return out;
}
