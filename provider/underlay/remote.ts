import { SshCommandError } from "../errors";
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
  STATUS_SCRIPT,
  WRITE_SCRIPT,
} from "./scripts";

/** Path of this resource's record on the DPU. */
export const recordPath = (id: string) => `${RECORD_DIR}/${id}.json`;
/** Staging directory of an apply in progress. */
export const stagingDir = (id: string) => `${RECORD_DIR}/${id}.staging`;

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

/** Why an apply did not stick. */
export class UnderlayRolledBackError extends Error {}

/** Options of {@link applyWithRollback}. */
export interface ApplyOptions {
  readonly id: string;
  readonly plan: UnderlayPlan;
  readonly record: UnderlayRecord;
  readonly rollbackAfterSeconds: number;
  readonly probes: readonly ({ ping: string } | { tcp: string })[];
  readonly connector: SshConnector;
  readonly target: SshTarget;
  readonly log: Logger;
}

/**
 * The post-apply session check, which also lets IPv6 duplicate address detection finish: a new IPv6 address is
 * tentative (unusable as a source) for about a second, so a probe sent at once would fail and roll back a
 * good change. Static (no input interpolated): waits up to 5 s for no tentative address, then prints the
 * addresses whose DAD failed, one `<dev> <addr/prefix>` per line.
 */
const SETTLE_SCRIPT = `i=0
while [ $i -lt 50 ] && [ -n "$(ip -6 -o addr show tentative -dadfailed 2>/dev/null)" ]; do sleep 0.1; i=$((i + 1)); done
ip -6 -o addr show dadfailed 2>/dev/null | while read -r _ dev _ addr _; do printf '%s %s\\n' "\${dev%%@*}" "$addr"; done
exit 0`;

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

async function runProbes(session: SshSession, probes: ApplyOptions["probes"]): Promise<string | undefined> {
  for (const p of probes) {
    if ("ping" in p) {
      const fam = p.ping.includes(":") ? ["-6"] : ["-4"];
      const r = await session.exec(["ping", ...fam, "-c", "1", "-W", "2", p.ping], {
        timeoutMs: 10_000,
        describe: `ping ${p.ping}`,
      });
      if (r.exitCode !== 0) return `probe ping ${p.ping} failed`;
    } else {
      const m = /^\[?(.+?)\]?:(\d+)$/.exec(p.tcp);
      const r = await session.exec(
        ["timeout", "5", "bash", "-c", 'exec 3<>"/dev/tcp/$1/$2"', "probe", m?.[1] ?? "", m?.[2] ?? ""],
        { timeoutMs: 10_000, describe: `tcp ${p.tcp}` },
      );
      if (r.exitCode !== 0) return `probe tcp ${p.tcp} failed`;
    }
  }
  return undefined;
}

async function waitForRollback(o: ApplyOptions, reason: string): Promise<never> {
  const dir = stagingDir(o.id);
  o.log.info(
    `${reason}; waiting up to ${o.rollbackAfterSeconds}s for the DPU to restore its previous configuration`,
  );
  o.connector.invalidate(o.target);
  const quick: SshTarget = {
    ...o.target,
    dialAttempts: 1,
    dialTimeoutMs: Math.min(o.target.dialTimeoutMs, 4_000),
  };
  await pollUntil(
    async () => {
      o.connector.invalidate(quick);
      const s = await o.connector.session(quick);
      const r = await s.run(["sh", "-c", STATUS_SCRIPT, "status", dir], {
        timeoutMs: 5_000,
        describe: "rollback status",
      });
      const state = r.stdout.trim();
      return { done: state !== "pending", value: state, status: state };
    },
    {
      what: "the DPU's automatic rollback",
      timeoutMs: (o.rollbackAfterSeconds + 30) * 1000,
      intervalMs: 1_000,
      onProgress: (l) => o.log.info(l),
      transient: () => true,
    },
  );
  const s = await o.connector.session(o.target);
  await s.exec(["rm", "-rf", "--", dir], { describe: "remove staging" });
  throw new UnderlayRolledBackError(
    `${reason}. The DPU restored its previous configuration (rollback after ${o.rollbackAfterSeconds}s); nothing was changed`,
  );
}

/**
 * Arms the rollback, applies the plan in one batch, verifies (the session still answers, probes pass) and
 * confirms. Throws {@link UnderlayRolledBackError} when the DPU restored itself, SshCommandError when the batch
 * failed (already restored).
 */
export async function applyWithRollback(session: SshSession, o: ApplyOptions): Promise<void> {
  const { plan } = o;
  const dir = stagingDir(o.id);
  const stdin = frames({
    "apply.batch": plan.apply.join("\n"),
    "restore.batch": plan.restore.join("\n"),
    "hostname.new": plan.hostname?.next,
    "hostname.old": plan.hostname?.previous,
    "resolv.new": plan.resolv?.next,
    "resolv.old": plan.resolv?.previous,
    "record.json": JSON.stringify(o.record),
  });
  o.log.info(`applying ${plan.apply.length} change(s) with rollback armed (${o.rollbackAfterSeconds}s)`);
  let applied: Awaited<ReturnType<SshSession["exec"]>>;
  try {
    applied = await session.exec(
      ["sh", "-c", APPLY_SCRIPT, "pulumi-dpu-apply", dir, String(o.rollbackAfterSeconds)],
      {
        stdin,
        timeoutMs: 15_000,
        describe: "underlay apply",
      },
    );
  } catch (err) {
    return waitForRollback(
      o,
      `the SSH session was lost while applying (${err instanceof Error ? err.message : String(err)})`,
    );
  }
  if (applied.exitCode === 3) {
    const stderr = applied.stderr.trim();
    // `ip link add … type vlan` on a kernel without 802.1Q support fails with this (the 8021q module is absent).
    const noVlan = /Unknown device type/i.test(stderr) && plan.apply.some((l) => / type vlan /.test(l));
    throw new SshCommandError({
      target: session.label,
      command: "underlay apply (ip -batch)",
      exitCode: 3,
      stderrTail: stderr,
      detail: noVlan
        ? "the DPU's kernel has no 802.1Q VLAN support (the 8021q module is missing or cannot be loaded), so the declared VLAN links cannot be created; the batch was restored at once and nothing was changed"
        : "the batch failed and was restored at once",
    });
  }
  if (applied.exitCode !== 0) {
    throw new SshCommandError({
      target: session.label,
      command: "underlay apply",
      exitCode: applied.exitCode,
      stderrTail: applied.stderr.trim(),
    });
  }
  // Verify: the session still answers, on a fresh channel, within a short time; then the probes.
  let failure: string | undefined;
  try {
    const settled = await session.run(["sh", "-c", SETTLE_SCRIPT], {
      timeoutMs: 10_000,
      describe: "session check (IPv6 DAD settle)",
    });
    const dups = duplicateAddresses(settled.stdout, o.record);
    failure =
      dups.length > 0
        ? `duplicate address detection: ${dups.join(", ")} is already in use on the link`
        : await runProbes(session, o.probes);
  } catch (err) {
    return waitForRollback(
      o,
      `the DPU stopped answering over SSH after the change (${err instanceof Error ? err.message : String(err)})`,
    );
  }
  if (failure !== undefined) {
    // Restore now rather than wait for the timer.
    await session.exec(
      [
        "sh",
        "-c",
        `pid=$(cat "$1/timer.pid") && kill -TERM -- "-$pid"; sh "$1/restore.sh" "$1"; rm -rf "$1"`,
        "restore",
        dir,
      ],
      {
        describe: "underlay restore",
      },
    );
    throw new UnderlayRolledBackError(
      `${failure} after the change; the DPU was restored to its previous configuration`,
    );
  }
  const confirmed = await session.exec(
    ["sh", "-c", CONFIRM_SCRIPT, "pulumi-dpu-confirm", dir, recordPath(o.id)],
    {
      describe: "underlay confirm",
    },
  );
  if (confirmed.exitCode === 4) {
    // The DPU is restoring (or has restored) itself: wait for it, then remove the staging directory.
    return waitForRollback(o, "the rollback window passed before the change could be confirmed");
  }
  if (confirmed.exitCode !== 0) {
    throw new SshCommandError({
      target: session.label,
      command: "underlay confirm",
      exitCode: confirmed.exitCode,
      stderrTail: confirmed.stderr.trim(),
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
