import { DpuError } from "./dpu-error";

/** Could not open an SSH connection (after the configured retries), or it dropped. */
export class SshConnectError extends DpuError {
  /** `user@host:port` of the target (or hop) that failed. */
  readonly target: string;

  constructor(target: string, detail: string, options?: { cause?: unknown; retryable?: boolean }) {
    super("DPU_SSH_CONNECT", `SSH to ${target}: ${detail}`, { retryable: true, ...options });
    this.name = "SshConnectError";
    this.target = target;
  }
}

/** The server's host key does not match the pinned one. Never retried: it may be an impersonation. */
export class HostKeyMismatchError extends DpuError {
  readonly target: string;
  readonly expected: string;
  readonly actual: string;

  constructor(target: string, expected: string, actual: string) {
    super(
      "DPU_SSH_HOST_KEY_MISMATCH",
      `SSH to ${target}: host key mismatch: pinned ${expected}, server presented ${actual}. ` +
        "If the DPU was reprovisioned on purpose, update the pinned hostKey; otherwise investigate before connecting.",
      { retryable: false },
    );
    this.name = "HostKeyMismatchError";
    this.target = target;
    this.expected = expected;
    this.actual = actual;
  }
}

/** A remote command exited non-zero, timed out or produced too much output. */
export class SshCommandError extends DpuError {
  readonly target: string;
  /** A short, secret-free description of the command (never its secret arguments). */
  readonly command: string;
  /** Exit code, or null when killed by a signal / timeout. */
  readonly exitCode: number | null;
  /** Last lines of stderr (secrets scrubbed). */
  readonly stderrTail: string;

  constructor(init: {
    target: string;
    command: string;
    exitCode: number | null;
    stderrTail: string;
    detail?: string;
  }) {
    const status = init.exitCode === null ? "did not complete" : `exited ${init.exitCode}`;
    super(
      "DPU_SSH_COMMAND",
      `on ${init.target}: ${init.command} ${status}${init.detail ? ` (${init.detail})` : ""}${
        init.stderrTail ? `: ${init.stderrTail}` : ""
      }`,
    );
    this.name = "SshCommandError";
    this.target = init.target;
    this.command = init.command;
    this.exitCode = init.exitCode;
    this.stderrTail = init.stderrTail;
  }
}
