import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { DpuError, SshCommandError } from "../errors";
import type { Logger } from "../log";
import { HeldTokens, takeRemoteLock } from "../ssh/remote-lock";
import type { ExecResult, SshSession } from "../ssh/types";
import { LOCK_SCRIPT, RECORD_DIR, UNLOCK_SCRIPT } from "./scripts";

/** Path of the lock of one underlay on the DPU (one writer per underlay id). */
export const lockPath = (id: string) => `${RECORD_DIR}/${id}.lock`;

/** Who holds a lock: one line, written on the DPU and shown to the next writer. */
interface Holder {
  readonly token: string;
  readonly action: string;
  readonly host: string;
  readonly pid: number;
  readonly since: string;
}

/** Another apply of the same underlay holds its lock on the DPU. */
export class UnderlayBusyError extends DpuError {
  constructor(message: string) {
    super("DPU_UNDERLAY_BUSY", message, { retryable: true });
    this.name = "UnderlayBusyError";
  }
}

function parseHolder(line: string): Holder | undefined {
  try {
    const h = JSON.parse(line) as Partial<Holder>;
    if (typeof h.token === "string" && typeof h.host === "string" && typeof h.pid === "number")
      return h as Holder;
  } catch {
    // not ours (or empty)
  }
  return undefined;
}

/** Tokens of the locks this process holds now (a lock of this process with another token was left behind). */
const heldTokens = new HeldTokens();

function describeHolder(line: string): string {
  const h = parseHolder(line);
  if (!h) return line.trim() === "" ? "an unknown holder (the lock has no holder yet)" : line.trim();
  return `${h.action} by pulumi-dpu pid ${h.pid} on ${h.host}, since ${h.since}`;
}

/** A held lock: release it when the apply ends, whatever the outcome. */
export interface UnderlayLock {
  release(session: SshSession): Promise<void>;
}

/**
 * Takes the lock of underlay `id` on the DPU for the whole apply (`action`: create, update or delete). The
 * lease covers the longest apply (`leaseSeconds`, DPU clock); a lock whose lease ended, or whose holder was a
 * process of this machine that is gone (a killed provider), is taken over. Under the lock, the staging
 * directories a killed provider left (`stagingPrefix`.*) are ended first: an unconfirmed change is restored at
 * once. Throws {@link UnderlayBusyError} naming the holder when another apply is running.
 */
export async function acquireUnderlayLock(
  session: SshSession,
  o: { id: string; action: string; leaseSeconds: number; stagingPrefix: string; log: Logger },
): Promise<UnderlayLock> {
  const path = lockPath(o.id);
  const token = randomBytes(8).toString("hex");
  const me = JSON.stringify({
    token,
    action: o.action,
    host: hostname(),
    pid: process.pid,
    since: new Date().toISOString(),
  } satisfies Holder);
  const r = await takeRemoteLock({
    tokens: heldTokens,
    attempt: (gone) =>
      session.exec(
        ["sh", "-c", LOCK_SCRIPT, "pulumi-dpu-lock", path, me, String(o.leaseSeconds), gone, o.stagingPrefix],
        { describe: "underlay lock", timeoutMs: 90_000 },
      ),
    busy: (res) => {
      const held = busyLine(res)?.[3] ?? "";
      const h = parseHolder(held);
      return h ? { token: h.token, staleToken: held, host: h.host, pid: h.pid, who: held } : undefined;
    },
  });
  const lines = r.stdout.split("\n");
  if (r.exitCode === 0) {
    for (const l of lines) {
      const [kind, what, detail] = l.split("\t");
      if (kind === "took-over")
        o.log.info(`took over the stale lock ${path} held by ${describeHolder(what ?? "")}`);
      if (kind === "recovered")
        o.log.info(
          `ended ${what}, a change a killed provider left unconfirmed (restored to what was there before)`,
        );
      if (kind === "not-undone") o.log.info(`could not undo \`${what}\` of that change: ${detail ?? ""}`);
    }
    heldTokens.add(token);
    return {
      async release(s: SshSession) {
        heldTokens.delete(token);
        await s.exec(["sh", "-c", UNLOCK_SCRIPT, "pulumi-dpu-unlock", path, me], {
          describe: "underlay unlock",
          timeoutMs: 15_000,
        });
      },
    };
  }
  const busy = busyLine(r);
  if (busy === undefined) {
    throw new SshCommandError({
      target: session.label,
      command: `lock ${path}`,
      exitCode: r.exitCode,
      stderrTail: r.stderr.trim(),
    });
  }
  const [, now, until, held = ""] = busy;
  const left = Number(until) - Number(now);
  const lease = Number.isFinite(left) && until !== "" ? `; its lease ends in ${left} s` : "";
  throw new UnderlayBusyError(
    `${o.action} DpuUnderlay ${o.id} (${session.label}): another apply of this underlay is running and holds the lock ${path}: ${describeHolder(held)}${lease}. Retry when it is done; a lock left by a provider that was killed is taken over once its process is gone (same machine) or its lease ended.`,
  );
}

/** The fields of the `busy<TAB><DPU now><TAB><lease end><TAB><holder>` answer of LOCK_SCRIPT (exit 75). */
function busyLine(r: ExecResult): string[] | undefined {
  if (r.exitCode !== 75) return undefined;
  return r.stdout
    .split("\n")
    .find((l) => l.startsWith("busy\t"))
    ?.split("\t");
}
