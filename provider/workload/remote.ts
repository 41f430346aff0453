import { SshCommandError } from "../errors";
import type { ExecResult, SshSession } from "../ssh/types";
import { CTL_SH } from "./ctl-script";
import type { ConcreteRuntime } from "./input-schemas";

/** Control-script actions. */
export type CtlAction =
  | "prepare"
  | "start"
  | "apply"
  | "renew"
  | "unlock"
  | "stop"
  | "status"
  | "rollback"
  | "remove"
  | "setowner";

/** Where and what: the workload on one DPU. */
export interface WorkloadRef {
  readonly root: string;
  readonly name: string;
  readonly runtime: ConcreteRuntime;
}

/** The argv that runs the static control script with data as positional arguments. */
export function ctlArgv(action: CtlAction, ref: WorkloadRef, args: readonly string[] = []): string[] {
  return ["sh", "-c", CTL_SH, "pulumi-dpu-ctl", action, ref.root, ref.name, ref.runtime, ...args];
}

/** Arguments of {@link ctl} and {@link ctlExec}: session, action, workload, extra arguments, timeout, stdin. */
type CtlCall = [
  session: SshSession,
  action: CtlAction,
  ref: WorkloadRef,
  args?: readonly string[],
  timeoutMs?: number,
  stdin?: Uint8Array,
];

function ctlCall(
  mode: "run" | "exec",
  ...[session, action, ref, args = [], timeoutMs = 120_000, stdin]: CtlCall
) {
  const argv = ctlArgv(action, ref, args);
  const opts = { timeoutMs, ...(stdin ? { stdin } : {}), describe: `workload ${ref.name} ${action}` };
  return mode === "run" ? session.run(argv, opts) : session.exec(argv, opts);
}

/** Runs one control action (one SSH round trip); rejects on a non-zero exit. */
export function ctl(...call: CtlCall): Promise<ExecResult> {
  return ctlCall("run", ...call);
}

/** Runs one control action (one SSH round trip) and resolves with any exit code (the caller reads it). */
export function ctlExec(...call: CtlCall): Promise<ExecResult> {
  return ctlCall("exec", ...call);
}

const DETECT_SH =
  "if command -v podman >/dev/null 2>&1; then echo podman; " +
  "elif [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then echo systemd; " +
  "else echo process; fi";

/** Resolves `auto`: podman if present, else systemd (when it is PID 1), else the process supervisor. */
export async function detectRuntime(session: SshSession): Promise<ConcreteRuntime> {
  const r = await session.run(["sh", "-c", DETECT_SH], { describe: "detect workload runtime" });
  const v = r.stdout.trim();
  return v === "podman" || v === "systemd" ? v : "process";
}

/** What the control script's `status` action observed (one JSON document). */
export interface RemoteStatus {
  readonly present: boolean;
  readonly status?: "running" | "failed" | "stopped";
  readonly pid?: number | null;
  readonly containerId?: string;
  readonly startedAt?: number | null;
  readonly restarts?: number | null;
  readonly exitCode?: number | null;
  readonly imageDigest?: string;
  /** sha256 of each artifact, in spec order (`-` when missing). */
  readonly artifacts?: readonly string[];
  /** `ok`, `fail`, `none` (no health check), `skipped` (not running / not asked) or `error:<why>`. */
  readonly health?: string;
  /** Decoded log tail (not yet redacted). */
  readonly logTail?: string;
  /** The argv recorded in the spec on the DPU (decoded; absent when the DPU sent none). */
  readonly argv?: readonly string[];
  /** The `key=value` meta recorded in the spec on the DPU (decoded; absent when the DPU sent none). */
  readonly meta?: Readonly<Record<string, string>>;
  /** The artifact destinations the spec on the DPU lists, in the order of {@link artifacts}. */
  readonly paths?: readonly string[];
}

/**
 * The sha256 on the DPU of the artifact at `destination` (index `i` of the inputs): looked up by destination
 * when the DPU sent its list, so a spec that no longer lists it reports it `missing` instead of a stale digest.
 */
export function artifactDigestOf(st: RemoteStatus, destination: string, i: number): string {
  if (!st.paths) return st.artifacts?.[i] ?? "-";
  const j = st.paths.indexOf(destination);
  return j < 0 ? "-" : (st.artifacts?.[j] ?? "-");
}

function decodeLines(b64: string): string[] {
  const text = Buffer.from(b64, "base64").toString("utf8");
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}

/** Runs `status` (one SSH round trip) and parses its JSON document. */
export async function remoteStatus(
  session: SshSession,
  ref: WorkloadRef,
  opts: { health: boolean; logLines: number; timeoutMs?: number },
): Promise<RemoteStatus> {
  const r = await ctl(
    session,
    "status",
    ref,
    [opts.health ? "1" : "0", String(opts.logLines)],
    opts.timeoutMs ?? 60_000,
  );
  let doc: Omit<RemoteStatus, "argv" | "meta" | "paths"> & { argv?: string; meta?: string; paths?: string };
  try {
    doc = JSON.parse(r.stdout.trim()) as typeof doc;
  } catch {
    throw new SshCommandError({
      target: session.label,
      command: `workload ${ref.name} status`,
      exitCode: r.exitCode,
      stderrTail: r.stderr.slice(-500),
      detail: "the status document is not JSON",
    });
  }
  const { argv, meta, paths, ...rest } = doc;
  const out: { -readonly [K in keyof RemoteStatus]: RemoteStatus[K] } = { ...rest };
  if (doc.logTail) out.logTail = Buffer.from(doc.logTail, "base64").toString("utf8");
  if (typeof argv === "string") out.argv = decodeLines(argv);
  if (typeof paths === "string") out.paths = decodeLines(paths);
  if (typeof meta === "string" && meta !== "") {
    const m: Record<string, string> = {};
    for (const l of decodeLines(meta)) {
      const i = l.indexOf("=");
      if (i > 0) m[l.slice(0, i)] = l.slice(i + 1);
    }
    out.meta = m;
  }
  return out;
}
