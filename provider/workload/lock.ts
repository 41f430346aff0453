import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { DpuError, SshCommandError } from "../errors";
import { ownerName } from "../lifecycle/owner-name";
import type { Logger } from "../log";
import { HeldTokens, takeRemoteLock } from "../ssh/remote-lock";
import type { SshSession } from "../ssh/types";
import { ctlExec, type WorkloadRef } from "./remote";

/** Another apply holds the workload's lock on the DPU. Names the holder. */
export class WorkloadLockedError extends DpuError {
  /** The holder as recorded on the DPU (`host=… pid=… stack=… action=…`). */
  readonly holder: string;
  constructor(message: string, holder: string) {
    super("DPU_WORKLOAD_LOCKED", message, { retryable: true });
    this.name = "WorkloadLockedError";
    this.holder = holder;
  }
}

/** An artifact destination the workload may not write (a directory, another workload's file…). */
export class ArtifactRefusedError extends DpuError {
  constructor(message: string) {
    super("DPU_WORKLOAD_ARTIFACT_REFUSED", message);
    this.name = "ArtifactRefusedError";
  }
}

/** The workload of this name on the DPU is recorded with another owner (another stack or resource). */
export class WorkloadOwnedError extends DpuError {
  /** The owner recorded on the DPU. */
  readonly owner: string;
  constructor(message: string, owner: string) {
    super("DPU_WORKLOAD_OWNED", message);
    this.name = "WorkloadOwnedError";
    this.owner = owner;
  }
}

/** The lock of one apply, held from `beginApply` until `release()`. */
export interface ApplyLease {
  /** Random token of this apply (also names its staged uploads). */
  readonly token: string;
  /** sha256 on the DPU of each requested destination (`-` when absent), in order. */
  readonly remoteShas: readonly string[];
  /** Stops renewing, removes staged uploads left by this apply, and releases the lock (best effort). */
  release(): Promise<void>;
}

/** What {@link beginApply} needs. */
export interface BeginApplyOptions {
  readonly action: "create" | "update" | "delete";
  /** Lease of the lock in seconds; renewed every third of it while the apply runs. */
  readonly leaseSeconds: number;
  /** Destinations to check and claim, in input order. */
  readonly artifacts: readonly { readonly destination: string; readonly overwrite: boolean }[];
  /** Prefix of error messages: `update DpuWorkload web (host:22/web)`. */
  readonly what: string;
  readonly log: Logger;
  /**
   * The owner of this resource (`owner` input). A create refuses a workload recorded on the DPU with another
   * owner, a delete leaves it alone (both throw {@link WorkloadOwnedError} after releasing the lock).
   */
  readonly owner?: string | undefined;
  /**
   * On update, the owner recorded in the resource's state: the resource may act as it too (a hand-over to a new
   * `owner`). An update of a workload recorded on the DPU with any other owner is refused.
   */
  readonly stateOwner?: string | undefined;
}

/** Who this process is, as recorded in a lock it holds (one line, printable ASCII). */
export function lockHolder(action: string): string {
  const stack = [process.env.PULUMI_PROJECT, process.env.PULUMI_STACK].filter(Boolean).join("/") || "unknown";
  return `host=${hostname()} pid=${process.pid} stack=${stack} action=${action}`.replace(
    /[^\x20-\x7e]/g,
    "?",
  );
}

/** Parses `key=value` lines. */
function fields(lines: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of lines) {
    const i = l.indexOf("=");
    if (i > 0) out[l.slice(0, i)] = l.slice(i + 1);
  }
  return out;
}

/** Tokens of the applies this process runs now (a lock of ours with another token was abandoned). */
const activeTokens = new HeldTokens();

function isoOf(epoch: string | undefined): string {
  const n = Number(epoch);
  return Number.isFinite(n) && n > 0 ? new Date(n * 1000).toISOString() : "an unknown time";
}

function refusal(line: string, dests: readonly string[]): string {
  const m = /^refused (\d+) (\S+)(?: (.*))?$/.exec(line);
  if (!m) return line;
  const i = Number(m[1]);
  const at = `artifacts[${i}].destination ${dests[i] ?? "?"}`;
  switch (m[2]) {
    case "directory":
      return `${at}: is a directory on the DPU; an artifact is a file, so give the file's full path (e.g. ${dests[i]}/<file name>)`;
    case "parent":
      return `${at}: ${m[3]} exists on the DPU and is not a directory, so the file cannot be created under it`;
    case "owner":
      return `${at}: the path belongs to workload ${m[3] || "(unknown)"} on this DPU; two workloads cannot deploy the same file`;
    case "exists":
      return `${at}: a file exists there that this workload did not create; set \`overwrite: true\` on the artifact to replace it (the original is backed up and restored when the workload is deleted)`;
    case "reserved":
      return `${at}: is inside ${m[3]}, where the provider keeps the workloads' own files`;
    case "backup":
      return `${at}: the existing file could not be backed up, so it was not replaced`;
    default:
      return `${at}: refused (${m[2]})`;
  }
}

/**
 * Starts an apply on the DPU in one round trip: takes the workload's lock (a lock left by a killed provider of
 * this machine, or whose lease expired, is taken over), finishes what an apply cut short left behind, then checks
 * and claims each artifact destination. Throws {@link WorkloadLockedError} naming the holder when another apply
 * runs, {@link ArtifactRefusedError} naming `artifacts[i].destination` when a path cannot be ours.
 */
export async function beginApply(
  session: SshSession,
  ref: WorkloadRef,
  opts: BeginApplyOptions,
): Promise<ApplyLease> {
  const token = randomBytes(8).toString("hex");
  const who = lockHolder(opts.action);
  const dests = opts.artifacts.map((a) => a.destination);
  const destArgs = opts.artifacts.flatMap((a) => [a.destination, a.overwrite ? "1" : "0"]);
  const lease = String(opts.leaseSeconds);
  destArgs.unshift(opts.action, opts.owner ?? "", opts.stateOwner ?? "");
  // Active from before the lock is asked for: an apply of this process never mistakes it for an abandoned one.
  activeTokens.add(token);
  const r = await takeRemoteLock({
    tokens: activeTokens,
    attempt: (stale) => ctlExec(session, "prepare", ref, [token, lease, who, stale, ...destArgs]),
    busy: (res) => {
      if (res.exitCode !== 75) return undefined;
      const holder = fields(res.stdout.split("\n").slice(1));
      if (!holder.token || !holder.who) return undefined;
      const host = /(?:^| )host=(\S+)/.exec(holder.who)?.[1];
      const pid = Number(/(?:^| )pid=(\d+)/.exec(holder.who)?.[1]);
      return { token: holder.token, staleToken: holder.token, host, pid, who: holder.who };
    },
    onStale: (h) =>
      opts.log.info(`the lock is held by an apply that no longer runs (${h.who}); taking it over`),
  }).catch((err: unknown) => {
    activeTokens.delete(token);
    throw err;
  });
  const lines = r.stdout.split("\n").filter((l) => l !== "");
  for (const l of lines) if (l.startsWith("note ")) opts.log.info(l.slice(5));
  if (r.exitCode === 75) {
    activeTokens.delete(token);
    const h = fields(lines.slice(1));
    const holder = h.who ?? "an unknown holder";
    throw new WorkloadLockedError(
      `${opts.what}: another apply of this workload is in progress on ${session.label} (lock held by ${holder}, ` +
        `since ${isoOf(h.since)}, lease until ${isoOf(h.expires)}); nothing was changed. Run again once it ` +
        `ends; a lock whose holder died is taken over when its lease expires`,
      holder,
    );
  }
  const release = async (): Promise<void> => {
    clearInterval(timer);
    activeTokens.delete(token);
    await Promise.race([
      ctlExec(session, "unlock", ref, [token], 30_000).catch((err: unknown) => {
        opts.log.info(`could not release the lock: ${err instanceof Error ? err.message : String(err)}`);
      }),
      new Promise<void>((resolve) => setTimeout(resolve, 35_000).unref()),
    ]);
  };
  const timer = setInterval(
    () => {
      ctlExec(session, "renew", ref, [token, lease], 30_000).then(
        (rr) => {
          if (rr.exitCode === 76) opts.log.info("this apply's lock was taken over by another apply");
        },
        () => {},
      );
    },
    Math.max(1000, (opts.leaseSeconds * 1000) / 3),
  );
  timer.unref();
  if (r.exitCode === 77 || r.exitCode === 78) {
    await release();
    const owner = /^owner (.*)$/m.exec(r.stdout)?.[1] ?? "(unknown)";
    const mine =
      opts.owner === undefined ? "this resource records no owner" : `this resource is ${opts.owner}`;
    throw new WorkloadOwnedError(
      r.exitCode === 78
        ? `${opts.what}: the workload on ${session.label} is owned by ${owner} (${mine}); it was left alone`
        : opts.action === "update"
          ? `${opts.what}: the DPU ${session.label} already holds this workload (${ref.root}/${ref.name}) for ` +
            `${ownerName(owner)}, and this resource is ${ownerName(opts.owner)}; nothing was changed. Two ` +
            "resources declare the same workload name on this DPU: keep one, or delete the other first."
          : `${opts.what}: a workload of this name already exists on ${session.label}, owned by ${owner} (${mine}); ` +
            "nothing was changed. Delete it, choose another name, or import it",
      owner,
    );
  }
  if (r.exitCode === 65) {
    await release();
    const problems = lines.filter((l) => l.startsWith("refused ")).map((l) => refusal(l, dests));
    throw new ArtifactRefusedError(`${opts.what}: ${problems.join("; ")}; nothing was changed`);
  }
  if (r.exitCode !== 0) {
    await release();
    throw new SshCommandError({
      target: session.label,
      command: `workload ${ref.name} prepare`,
      exitCode: r.exitCode,
      stderrTail: (r.stderr || r.stdout).slice(-500),
    });
  }
  const shas = dests.map(() => "-");
  for (const l of lines) {
    const m = /^sha (\d+) (\S+)$/.exec(l);
    if (m) shas[Number(m[1])] = m[2] ?? "-";
  }
  return { token, remoteShas: shas, release };
}
