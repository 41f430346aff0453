import { randomBytes } from "node:crypto";
import { DpuError, SshCommandError } from "../errors";
import { pollUntil } from "../lifecycle";
import type { Logger } from "../log";
import type { SshConnector, SshSession, SshTarget } from "../ssh/types";
import { canonicalCidr } from "./cidr";
import { type ObservedState, parseObserved } from "./observed";
import type { UnderlayPlan } from "./planner";
import type { UnderlayRecord } from "./record";
import type { RenderedFile } from "./render-model";
import {
  APPLY_SCRIPT,
  CONFIRM_SCRIPT,
  FRAME_MARKER,
  READ_SCRIPT,
  RECORD_DIR,
  REMOVE_SCRIPT,
  RESTORE_NOW_SCRIPT,
  SETTLE_SCRIPT,
  STATUS_SCRIPT,
  TCP_PROBE_SCRIPT,
  WRITE_SCRIPT,
} from "./scripts";

/** Path of this resource's record on the DPU. */
export const recordPath = (id: string) => `${RECORD_DIR}/${id}.json`;
/** Prefix of the staging directories of this resource's applies (`<prefix>.<unique>`). */
export const stagingPrefix = (id: string) => `${RECORD_DIR}/${id}.staging`;
/**
 * A staging directory unique to one apply: a timer left by an earlier apply (of this or any resource) can only
 * ever restore its own directory, never a later apply's.
 */
export const newStagingDir = (id: string) =>
  `${stagingPrefix(id)}.${Date.now().toString(36)}-${randomBytes(4).toString("hex")}`;

/** Reads the observed state in one round trip (one exec, one JSON document). */
export async function readObserved(session: SshSession, id: string): Promise<ObservedState> {
  const res = await session.run(["sh", "-c", READ_SCRIPT, "pulumi-dpu-read", recordPath(id)], {
    describe: "underlay read",
    timeoutMs: 30_000,
  });
  return parseObserved(res.stdout);
}

function frames(files: Record<string, string | undefined>): string {
  let out = "";
  for (const [name, content] of Object.entries(files)) {
    if (content === undefined) continue;
    out += `${FRAME_MARKER}${name}\n${content}${content.endsWith("\n") || content === "" ? "" : "\n"}`;
  }
  return out;
}

/** One undo step the DPU could not run, and why. */
export interface NotUndone {
  /** The `ip` command (or `hostname …`, `resolv.conf`). */
  readonly command: string;
  readonly error: string;
}

/** The `not-undone<TAB><command><TAB><error>` lines printed by the restore. */
export function parseNotUndone(output: string): NotUndone[] {
  return output.split("\n").flatMap((l) => {
    const [kind, command, error] = l.split("\t");
    return kind === "not-undone" && command ? [{ command, error: (error ?? "").trim() }] : [];
  });
}

/** Sentence reporting what a restore could not undo (empty when it undid everything). */
export function leftoverSentence(notUndone: readonly NotUndone[], record: string): string {
  if (notUndone.length === 0) return "";
  const list = notUndone.map((n) => `\`${n.command}\`${n.error ? ` (${n.error})` : ""}`).join("; ");
  return ` The restore ran every undo step but could not undo ${notUndone.length}: ${list}. What those steps left on the DPU is recorded in ${record}, so the next update or delete removes it.`;
}

/** Why an apply did not stick: the DPU was restored (by the provider or its own timer). */
export class UnderlayRolledBackError extends DpuError {
  /** Undo steps that failed: their changes are still on the DPU (and in its record). */
  readonly notUndone: readonly NotUndone[];
  constructor(message: string, notUndone: readonly NotUndone[] = []) {
    super("DPU_UNDERLAY_ROLLED_BACK", message);
    this.name = "UnderlayRolledBackError";
    this.notUndone = notUndone;
  }
}

/** A step of the batch failed; the steps before it were undone at once (see {@link notUndone}). */
export class UnderlayApplyError extends SshCommandError {
  readonly notUndone: readonly NotUndone[];
  constructor(init: ConstructorParameters<typeof SshCommandError>[0], notUndone: readonly NotUndone[]) {
    super(init);
    this.notUndone = notUndone;
  }
}

/** Options of {@link applyWithRollback}. */
export interface ApplyOptions {
  readonly id: string;
  readonly plan: UnderlayPlan;
  /** The record installed once the change is confirmed. */
  readonly record: UnderlayRecord;
  /**
   * The record installed when a restore could not undo everything: everything the change may have left (the
   * update or delete after it undoes only what it finds on the DPU). Default: {@link record}.
   */
  readonly partialRecord?: UnderlayRecord;
  readonly rollbackAfterSeconds: number;
  readonly probes: readonly ({ ping: string } | { tcp: string })[];
  readonly connector: SshConnector;
  readonly target: SshTarget;
  readonly log: Logger;
}

/** Addresses this apply added (per the record) that the DPU reports as duplicates (IPv6 DAD failed). */
export function duplicateAddresses(settleOutput: string, record: UnderlayRecord): string[] {
  const out: string[] = [];
  for (const line of settleOutput.split("\n")) {
    const [dev, addr] = line.trim().split(/\s+/);
    if (!dev || !addr) continue;
    const added = record.links[dev]?.addresses.map(canonicalCidr) ?? [];
    if (added.includes(canonicalCidr(addr))) out.push(`${addr} on ${dev}`);
  }
  return out;
}

/** One check after the change, timed, so a rollback can say which one outlived the window. */
interface Timed {
  readonly what: string;
  readonly ms: number;
  readonly endedAt: number;
}

async function runProbes(
  session: SshSession,
  probes: ApplyOptions["probes"],
  timed: Timed[],
): Promise<string | undefined> {
  for (const p of probes) {
    const started = Date.now();
    const what = "ping" in p ? `probe ping ${p.ping}` : `probe tcp ${p.tcp}`;
    let ok: boolean;
    if ("ping" in p) {
      const fam = p.ping.includes(":") ? ["-6"] : ["-4"];
      const r = await session.exec(["ping", ...fam, "-c", "1", "-W", "2", p.ping], {
        timeoutMs: 10_000,
        describe: `ping ${p.ping}`,
      });
      ok = r.exitCode === 0;
    } else {
      const m = /^\[?(.+?)\]?:(\d+)$/.exec(p.tcp);
      const r = await session.exec(["sh", "-c", TCP_PROBE_SCRIPT, "probe", m?.[1] ?? "", m?.[2] ?? ""], {
        timeoutMs: 10_000,
        describe: `tcp ${p.tcp}`,
      });
      ok = r.exitCode === 0;
    }
    timed.push({ what, ms: Date.now() - started, endedAt: Date.now() });
    if (!ok) return `${what} failed`;
  }
  return undefined;
}

const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/**
 * What the polls after a lost session saw: how long after the poll started a new SSH connection first answered
 * (undefined: only once the change was over), and the staging state then.
 */
export interface Reachability {
  readonly firstAnswerMs?: number;
  readonly firstState?: string;
}

/**
 * Polls a fresh connection until the staging directory is no longer pending: `rolled-back` or `gone`; `seen`
 * gets when the DPU first answered and in which state.
 */
async function pollStaging(
  o: ApplyOptions,
  dir: string,
  seen: { firstAnswerMs?: number; firstState?: string } = {},
): Promise<{ state: string; report: string }> {
  const started = Date.now();
  o.connector.invalidate(o.target);
  const quick: SshTarget = {
    ...o.target,
    dialAttempts: 1,
    dialTimeoutMs: Math.min(o.target.dialTimeoutMs, 4_000),
  };
  let report = "";
  const state = await pollUntil(
    async () => {
      o.connector.invalidate(quick);
      const s = await o.connector.session(quick);
      const r = await s.run(["sh", "-c", STATUS_SCRIPT, "status", dir], {
        timeoutMs: 5_000,
        describe: "rollback status",
      });
      const st = r.stdout.split("\n")[0]?.trim() ?? "";
      report = r.stdout;
      if (seen.firstAnswerMs === undefined) {
        seen.firstAnswerMs = Date.now() - started;
        seen.firstState = st;
      }
      return { done: st !== "pending", value: st, status: st };
    },
    {
      what: "the DPU's automatic rollback",
      timeoutMs: (o.rollbackAfterSeconds + 30) * 1000,
      intervalMs: 1_000,
      onProgress: (l) => o.log.info(l),
      transient: () => true,
    },
  );
  return { state, report };
}

async function waitForRollback(
  o: ApplyOptions,
  dir: string,
  why: string | { readonly waiting: string; readonly observed: (seen: Reachability) => string },
): Promise<never> {
  const waiting = typeof why === "string" ? why : why.waiting;
  o.log.info(
    `${waiting}; waiting up to ${o.rollbackAfterSeconds}s for the DPU to restore its previous configuration`,
  );
  const seen: { firstAnswerMs?: number; firstState?: string } = {};
  const { report } = await pollStaging(o, dir, seen);
  const reason = typeof why === "string" ? why : why.observed(seen);
  const s = await o.connector.session(o.target);
  await s.exec(["rm", "-rf", "--", dir], { describe: "remove staging" });
  const notUndone = parseNotUndone(report);
  throw new UnderlayRolledBackError(
    `${reason}. The DPU restored its previous configuration (rollback after ${o.rollbackAfterSeconds}s)${
      notUndone.length === 0 ? "; nothing was changed" : "."
    }${leftoverSentence(notUndone, recordPath(o.id))}`,
    notUndone,
  );
}

/**
 * Why the timer won the race with the confirmation: the check after the change that was still running when
 * the rollback window ended (the window is armed on the DPU just after `sentAt`), or the window itself.
 */
function lateReason(timed: readonly Timed[], sentAt: number, windowSeconds: number): string {
  const deadline = sentAt + windowSeconds * 1000;
  const late = timed.find((t) => t.endedAt >= deadline);
  if (late === undefined) {
    const total = timed.reduce((n, t) => n + t.ms, 0);
    return `the rollback window of ${windowSeconds} s ended before the change could be confirmed (the checks after the change took ${secs(total)}: ${timed.map((t) => `${t.what} ${secs(t.ms)}`).join(", ")}); raise safety.rollbackAfterSeconds`;
  }
  if (late.what === "underlay apply" || late.what === "session check") {
    const what =
      late.what === "underlay apply"
        ? "the DPU's answer to the apply itself"
        : "the answer to the session check sent right after the change";
    return `the DPU stopped answering over SSH once the change was applied: ${what} arrived only ${secs(late.endedAt - sentAt)} after the change was sent, after the rollback window of ${windowSeconds} s had ended and the DPU had restored the previous configuration, so the change cut the SSH session's path`;
  }
  return `${late.what} took ${secs(late.ms)} and was still running when the rollback window of ${windowSeconds} s ended`;
}

/** A new connection that answers within this time, with the change still pending, shows the path was kept. */
const PATH_KEPT_MS = 5_000;

/**
 * Why an apply whose session was lost was rolled back, worded from what the polls after it observed: a DPU that
 * answered a new connection at once with the change still pending kept its management path (the transport
 * dropped); one that answered only once the change was over (or never) lost it to the change.
 */
export function lostDuringApply(seen: Reachability, cause: string, windowSeconds: number): string {
  const at = seen.firstAnswerMs;
  if (at !== undefined && at <= PATH_KEPT_MS && seen.firstState === "pending") {
    return `the SSH connection dropped while the change was applied (${cause}), but the DPU kept its management path: a new SSH connection was answered ${secs(at)} later with the change still pending (not rolled back), so the change did not cut the path (the drop came from the transport). The change could not be confirmed over the lost session`;
  }
  const when =
    at === undefined
      ? "did not answer a new SSH connection"
      : `answered a new SSH connection only ${secs(at)} later${seen.firstState === "pending" ? "" : `, once the rollback window of ${windowSeconds} s had ended`}`;
  return `the DPU stopped answering over SSH while the change was applied and ${when}, so the change likely cut the SSH session's path (${cause})`;
}

/**
 * Arms the rollback, applies the plan one step at a time, verifies (the session still answers, probes pass)
 * and confirms. Throws {@link UnderlayRolledBackError} when the DPU was restored (by the provider after a failed
 * check, or by its timer), {@link UnderlayApplyError} when a step failed (the steps before it undone at once);
 * both list the undo steps that failed.
 */
export async function applyWithRollback(session: SshSession, o: ApplyOptions): Promise<void> {
  const { plan } = o;
  const dir = newStagingDir(o.id);
  // `<step> <ip command>`, last step first: the restore undoes only the steps that were applied.
  const undo: readonly (readonly string[])[] = plan.undo ?? [];
  const restoreLines: string[] = [];
  for (let i = undo.length - 1; i >= 0; i--) {
    for (const line of undo[i] ?? []) restoreLines.push(`${i} ${line}`);
  }
  const stdin = frames({
    "apply.batch": plan.apply.join("\n"),
    "restore.batch": restoreLines.join("\n"),
    "hostname.new": plan.hostname?.next,
    "hostname.old": plan.hostname?.previous,
    "resolv.new": plan.resolv?.next,
    "resolv.old": plan.resolv?.previous,
    "record.json": JSON.stringify(o.record),
    "record.partial": JSON.stringify(o.partialRecord ?? o.record),
    "record.target": recordPath(o.id),
  });
  o.log.info(`applying ${plan.apply.length} change(s) with rollback armed (${o.rollbackAfterSeconds}s)`);
  const sentAt = Date.now();
  let applied: Awaited<ReturnType<SshSession["exec"]>>;
  try {
    applied = await session.exec(
      ["sh", "-c", APPLY_SCRIPT, "pulumi-dpu-apply", dir, String(o.rollbackAfterSeconds)],
      {
        stdin,
        timeoutMs: 15_000 + 100 * plan.apply.length,
        describe: "underlay apply",
      },
    );
  } catch (err) {
    const cause = err instanceof Error ? err.message : String(err);
    return waitForRollback(o, dir, {
      waiting: `the SSH session was lost while the change was applied (${cause})`,
      observed: (seen) => lostDuringApply(seen, cause, o.rollbackAfterSeconds),
    });
  }
  const timed: Timed[] = [{ what: "underlay apply", ms: Date.now() - sentAt, endedAt: Date.now() }];
  if (applied.exitCode === 3) {
    const stderr = applied.stderr.trim();
    const failed = applied.stdout.split("\n").find((l) => l.startsWith("failed-step\t"));
    const step = failed?.split("\t")[1];
    const notUndone = parseNotUndone(applied.stdout);
    // `ip link add … type vlan` on a kernel without 802.1Q support fails with this (the 8021q module is absent).
    const noVlan = /Unknown device type/i.test(stderr) && / type vlan /.test(step ?? "");
    const what = noVlan
      ? "the DPU's kernel has no 802.1Q VLAN support (the 8021q module is missing or cannot be loaded), so the declared VLAN links cannot be created"
      : `step \`${step ?? "?"}\` failed`;
    throw new UnderlayApplyError(
      {
        target: session.label,
        command: "underlay apply (ip)",
        exitCode: 3,
        stderrTail: stderr,
        detail:
          notUndone.length === 0
            ? `${what}; the steps before it were undone at once and nothing was changed`
            : `${what}; the steps before it were undone at once.${leftoverSentence(notUndone, recordPath(o.id))}`,
      },
      notUndone,
    );
  }
  if (applied.exitCode !== 0) {
    throw new SshCommandError({
      target: session.label,
      command: "underlay apply",
      exitCode: applied.exitCode,
      stderrTail: applied.stderr.trim(),
    });
  }
  // Verify: the session still answers within a short time (a change that cuts its path makes it hang), then
  // IPv6 duplicate address detection, then the probes.
  const checkMs = Math.max(3_000, Math.min(10_000, o.rollbackAfterSeconds * 1000 - 1_000));
  let failure: string | undefined;
  let stage = "session check";
  try {
    let started = Date.now();
    try {
      await session.run(["true"], { timeoutMs: checkMs, describe: "session check" });
    } finally {
      timed.push({ what: "session check", ms: Date.now() - started, endedAt: Date.now() });
    }
    stage = "IPv6 duplicate address detection";
    started = Date.now();
    const settled = await session.run(["sh", "-c", SETTLE_SCRIPT], {
      timeoutMs: 10_000,
      describe: "IPv6 duplicate address detection",
    });
    timed.push({ what: stage, ms: Date.now() - started, endedAt: Date.now() });
    stage = "probes";
    const dups = duplicateAddresses(settled.stdout, o.record);
    failure =
      dups.length > 0
        ? `duplicate address detection: ${dups.join(", ")} is already in use on the link`
        : await runProbes(session, o.probes, timed);
  } catch (err) {
    const cause = err instanceof Error ? err.message : String(err);
    return waitForRollback(
      o,
      dir,
      stage === "session check"
        ? `the DPU stopped answering over SSH right after the change (no answer to the session check within ${secs(timed[timed.length - 1]?.ms ?? checkMs)}), so the change cut the SSH session's path (${cause})`
        : `the DPU stopped answering over SSH after the change, during the ${stage}, so the change likely cut the SSH session's path (${cause})`,
    );
  }
  if (failure !== undefined) {
    // Restore now rather than wait for the timer.
    const r = await session.exec(["sh", "-c", RESTORE_NOW_SCRIPT, "pulumi-dpu-restore", dir], {
      describe: "underlay restore",
      timeoutMs: 60_000,
    });
    if (r.exitCode === 4) return waitForRollback(o, dir, `${failure} after the change`);
    const notUndone = parseNotUndone(r.stdout);
    throw new UnderlayRolledBackError(
      `${failure} after the change; the DPU was restored to its previous configuration${leftoverSentence(notUndone, recordPath(o.id))}`,
      notUndone,
    );
  }
  let confirmed: Awaited<ReturnType<SshSession["exec"]>>;
  try {
    confirmed = await session.exec(
      ["sh", "-c", CONFIRM_SCRIPT, "pulumi-dpu-confirm", dir, recordPath(o.id)],
      {
        describe: "underlay confirm",
        timeoutMs: 60_000,
      },
    );
  } catch (err) {
    // The confirmation may or may not have run: the staging directory tells. Gone: confirmed (it removes the
    // directory last); rolled back: the timer won.
    const cause = err instanceof Error ? err.message : String(err);
    o.log.info(
      `the SSH session was lost while confirming (${cause}); checking whether the change was confirmed`,
    );
    const { state } = await pollStaging(o, dir);
    if (state === "gone") return;
    return waitForRollback(
      o,
      dir,
      `the SSH session was lost while confirming the change (${cause}) and the rollback window ended first`,
    );
  }
  if (confirmed.exitCode === 4) {
    // The DPU is restoring (or has restored) itself: wait for it, then remove the staging directory.
    return waitForRollback(o, dir, lateReason(timed, sentAt, o.rollbackAfterSeconds));
  }
  if (confirmed.exitCode !== 0) {
    const notUndone = parseNotUndone(confirmed.stdout);
    throw new SshCommandError({
      target: session.label,
      command: "underlay confirm",
      exitCode: confirmed.exitCode,
      stderrTail: confirmed.stderr.trim(),
      detail:
        confirmed.exitCode === 5
          ? `the record ${recordPath(o.id)} could not be written, so the change was restored at once.${leftoverSentence(notUndone, recordPath(o.id))}`
          : undefined,
    });
  }
}

/** Writes a file atomically through a static script (works with sudo, unlike SFTP as the login user). */
export async function writeRemoteFile(session: SshSession, file: RenderedFile): Promise<void> {
  await session.run(["sh", "-c", WRITE_SCRIPT, "pulumi-dpu-write", file.path, file.mode.toString(8)], {
    stdin: file.content,
    describe: `write ${file.path}`,
  });
}

/** Removes files (missing ones are fine). */
export async function removeRemoteFiles(session: SshSession, paths: readonly string[]): Promise<void> {
  if (paths.length === 0) return;
  await session.run(["sh", "-c", REMOVE_SCRIPT, "pulumi-dpu-rm", ...paths], { describe: "remove files" });
}
