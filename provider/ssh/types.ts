/**
 * The SSH transport contract used by DpuUnderlay and DpuWorkload. Resource code depends on these interfaces
 * only; `provider/ssh/` implements them with ssh2 (pooling, pinning, jump hosts, retries).
 */

/** One SSH endpoint (the target or a jump host), fully resolved (defaults applied, secrets in plain). */
export interface SshEndpoint {
  readonly host: string;
  readonly port: number;
  readonly username: string;
  /** PEM/OpenSSH private key. Secret. */
  readonly privateKey?: string;
  /** Passphrase of the private key. Secret. */
  readonly passphrase?: string;
  /** Password. Secret. */
  readonly password?: string;
  /**
   * Pinned host key: `SHA256:<base64>` fingerprint as OpenSSH prints it, or a public key line
   * (`ssh-ed25519 AAAA…`). A mismatch is a hard error naming both fingerprints.
   */
  readonly hostKey?: string;
}

/** How to reach a DPU over SSH. */
export interface SshTarget extends SshEndpoint {
  /** Bastions, outermost first. */
  readonly jumpHosts: readonly SshEndpoint[];
  /** Dial attempts before giving up (a rebooting DPU is normal, not fatal). */
  readonly dialAttempts: number;
  /** Timeout of one dial (TCP + handshake), ms. */
  readonly dialTimeoutMs: number;
  /** Keepalive interval, ms (0 disables). */
  readonly keepaliveIntervalMs: number;
  /** Run commands through `sudo -n` (for non-root users). */
  readonly sudo: boolean;
}

/** Options of one remote command. */
export interface ExecOptions {
  /** Data written to the command's stdin, then closed. Secrets travel here, never in argv. */
  readonly stdin?: string | Uint8Array;
  /** Kill the command after this many ms (default 60 s). */
  readonly timeoutMs?: number;
  /** Stop collecting (and fail) past this many bytes of stdout+stderr (default 4 MiB). */
  readonly maxOutputBytes?: number;
  /** Override the target's sudo setting for this command. */
  readonly sudo?: boolean;
  /** Secret-free description for errors and logs (default: argv[0] and argv[1]). */
  readonly describe?: string;
}

/** The outcome of a remote command that ran to completion (any exit code). */
export interface ExecResult {
  readonly stdout: string;
  readonly stderr: string;
  /** Exit code; null if ended by a signal. */
  readonly exitCode: number | null;
}

/** A live, pooled connection to one DPU. */
export interface SshSession {
  /** `user@host:port`, for messages. */
  readonly label: string;
  /** SHA256 fingerprint of the host key the server presented (`SHA256:…`). */
  readonly hostKeyFingerprint: string;
  /**
   * Runs `argv` on the DPU. The command line is built by quoting each argument for a POSIX shell, so no
   * argument can inject shell syntax. Resolves with any exit code; rejects on transport failure or timeout.
   */
  exec(argv: readonly string[], opts?: ExecOptions): Promise<ExecResult>;
  /** Like {@link exec} but rejects with an SshCommandError on a non-zero exit. */
  run(argv: readonly string[], opts?: ExecOptions): Promise<ExecResult>;
  /**
   * Writes a file atomically over SFTP: temporary file in the same directory, chmod, rename. Parent directories
   * are created. Runs as the SSH user (use exec with sudo for root-owned paths from a non-root user).
   * `{ localPath }` streams a local file (memory stays flat in the file's size).
   */
  writeFileAtomic(path: string, data: FileData, mode: number): Promise<void>;
}

/** What {@link SshSession.writeFileAtomic} writes: bytes in memory, or a local file streamed from disk. */
export type FileData = string | Uint8Array | { readonly localPath: string };

/** Opens (or reuses) connections. One pool per provider process, shared by all resources. */
export interface SshConnector {
  /** A session for `target`, reusing a live pooled connection to the same endpoint and credentials. */
  session(target: SshTarget): Promise<SshSession>;
  /** Drops the pooled connection(s) to `target` (e.g. after a reboot). */
  invalidate(target: SshTarget): void;
  /** Closes every connection. */
  closeAll(): Promise<void>;
}
