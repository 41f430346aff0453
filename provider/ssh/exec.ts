import type { Client, ClientChannel } from "ssh2";
import { SshCommandError, SshConnectError } from "../errors";
import { redact } from "../log";
import type { ExecResult } from "./types";

/** Defaults of one remote command. */
export const DEFAULT_EXEC_TIMEOUT_MS = 60_000;
export const DEFAULT_MAX_OUTPUT_BYTES = 4 * 1024 * 1024;

/** What {@link execOnClient} needs besides the client. */
export interface RawExec {
  readonly label: string;
  /** The full, already quoted command line. */
  readonly command: string;
  /** Secret-free description for errors. */
  readonly describe: string;
  readonly stdin?: string | Uint8Array;
  readonly timeoutMs: number;
  readonly maxOutputBytes: number;
}

const NOT_STARTED = Symbol("sshCommandNotStarted");

/** True when the command was never started (the channel could not be opened), so retrying it is safe. */
export function commandNotStarted(err: unknown): boolean {
  return typeof err === "object" && err !== null && NOT_STARTED in err;
}

/** Last lines of a text, secrets scrubbed, for error messages. */
export function tail(text: string, maxChars = 600): string {
  const t = text.trim();
  return redact(t.length > maxChars ? `…${t.slice(-maxChars)}` : t);
}

/**
 * Runs one command line on a connected client: delivers stdin, collects stdout/stderr up to a limit, and kills
 * the channel on timeout. Resolves with any exit code; rejects on transport failure, timeout or overflow.
 *
 * Listeners are attached inside ssh2's exec callback, synchronously: a fast command's data, exit status and
 * close can arrive in the same TCP read as the channel confirmation and would be missed a microtask later.
 */
export function execOnClient(client: Client, req: RawExec): Promise<ExecResult> {
  return new Promise<ExecResult>((resolve, reject) => {
    const notStarted = (err: Error) =>
      reject(
        Object.assign(
          new SshConnectError(req.label, `could not start ${req.describe}: ${redact(err.message)}`, {
            cause: err,
          }),
          { [NOT_STARTED]: true },
        ),
      );
    try {
      client.exec(req.command, (err, channel) => {
        if (err) notStarted(err);
        else watch(channel, req, resolve, reject);
      });
    } catch (err) {
      notStarted(err instanceof Error ? err : new Error(String(err)));
    }
  });
}

function watch(
  channel: ClientChannel,
  req: RawExec,
  resolve: (r: ExecResult) => void,
  reject: (e: Error) => void,
): void {
  const out: Buffer[] = [];
  const errs: Buffer[] = [];
  let bytes = 0;
  let exitCode: number | null = null;
  let exited = false;
  let failure: Error | undefined;
  const stop = (err: Error) => {
    if (failure !== undefined) return;
    failure = err;
    clearTimeout(timer);
    // Reject now: a server that ignores the signal would otherwise keep us waiting until the command ends.
    reject(err);
    try {
      channel.signal("KILL");
    } catch {
      // the server may not support signals; closing the channel ends the session anyway
    }
    channel.close();
  };
  const timer = setTimeout(() => {
    stop(
      new SshCommandError({
        target: req.label,
        command: req.describe,
        exitCode: null,
        stderrTail: tail(Buffer.concat(errs).toString("utf8")),
        detail: `timed out after ${req.timeoutMs} ms, killed`,
      }),
    );
  }, req.timeoutMs);
  const collect = (into: Buffer[]) => (chunk: Buffer) => {
    if (failure !== undefined) return;
    bytes += chunk.length;
    if (bytes > req.maxOutputBytes) {
      stop(
        new SshCommandError({
          target: req.label,
          command: req.describe,
          exitCode: null,
          stderrTail: "",
          detail: `output exceeded ${req.maxOutputBytes} bytes, stopped`,
        }),
      );
      return;
    }
    into.push(chunk);
  };
  channel.on("data", collect(out));
  channel.stderr.on("data", collect(errs));
  channel.on("exit", (code: number | null) => {
    exited = true;
    exitCode = typeof code === "number" ? code : null;
  });
  channel.on("error", (err: Error) => stop(err));
  channel.on("close", (code?: number | null) => {
    clearTimeout(timer);
    if (failure !== undefined) return;
    if (!exited && code === undefined) {
      reject(
        new SshConnectError(req.label, `connection lost while running ${req.describe}`, { retryable: true }),
      );
      return;
    }
    resolve({
      stdout: Buffer.concat(out).toString("utf8"),
      stderr: Buffer.concat(errs).toString("utf8"),
      exitCode: exited ? exitCode : typeof code === "number" ? code : null,
    });
  });
  if (req.stdin !== undefined) channel.end(req.stdin);
  else channel.end();
}
