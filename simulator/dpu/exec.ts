import { spawn } from "node:child_process";

/** Result of a finished command. */
export interface ExecResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Options of {@link exec}. */
export interface ExecOptions {
  /** Text written to the command's stdin (closed afterwards). */
  readonly input?: string;
  /** Resolve with a non-zero exit code instead of rejecting. */
  readonly allowFailure?: boolean;
  /** Kill the command after this many ms (default 30 s). */
  readonly timeoutMs?: number;
}

/**
 * Runs `cmd` with `args` (no shell) and collects its output. Rejects on a non-zero exit unless
 * `allowFailure` is set; the error message names the command and carries its stderr.
 */
export function exec(cmd: string, args: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 30_000);
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const res = {
        code: code ?? (signal ? 128 : 1),
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
      };
      if (res.code !== 0 && !opts.allowFailure) {
        reject(new Error(`${cmd} ${args.join(" ")} failed (${signal ?? res.code}): ${res.stderr.trim()}`));
      } else {
        resolve(res);
      }
    });
    child.stdin.on("error", () => {});
    child.stdin.end(opts.input ?? "");
  });
}

/**
 * Runs `ip` commands from `lines` in one process (`ip <options> -batch -`). With `force`, errors of single
 * lines are ignored and the rest still runs.
 */
export async function ipBatch(
  lines: readonly string[],
  options: readonly string[] = [],
  force = false,
): Promise<void> {
  if (lines.length === 0) return;
  const args = [...options, ...(force ? ["-force"] : []), "-batch", "-"];
  await exec("ip", args, { input: `${lines.join("\n")}\n`, allowFailure: force });
}

/** Runs `items` through `fn` with at most `limit` in flight; rejects with the first error after all settle. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  let firstError: unknown;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i] as T, i);
      } catch (e) {
        if (!failed) {
          failed = true;
          firstError = e;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failed) throw firstError;
  return results;
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
