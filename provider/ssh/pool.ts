import { createHash } from "node:crypto";
import type { Client } from "ssh2";
import { SshCommandError } from "../errors";
import { withRetry } from "../lifecycle";
import { logger, redact, registerSecret } from "../log";
import { type DialedChain, dialOnce } from "./dial";
import {
  commandNotStarted,
  DEFAULT_EXEC_TIMEOUT_MS,
  DEFAULT_MAX_OUTPUT_BYTES,
  execOnClient,
  tail,
} from "./exec";
import { endpointLabel } from "./label";
import { shellQuote, withSudo } from "./quote";
import { sftpWriteFileAtomic } from "./sftp";
import { isTransientDialError } from "./transient";
import type {
  ExecOptions,
  ExecResult,
  FileData,
  SshConnector,
  SshEndpoint,
  SshSession,
  SshTarget,
} from "./types";

/** Channels run at once on one connection (OpenSSH allows 10 sessions per connection by default). */
const MAX_CHANNELS_PER_CONNECTION = 8;

/** One pooled connection (with its bastion chain); internal to the pool, exported for typing. */
export interface PooledConnection {
  readonly key: string;
  readonly chain: DialedChain;
  alive: boolean;
  active: number;
  readonly queue: (() => void)[];
}

function endpointKey(ep: SshEndpoint): string[] {
  return [
    ep.host,
    String(ep.port),
    ep.username,
    ep.privateKey ?? "",
    ep.passphrase ?? "",
    ep.password ?? "",
    ep.hostKey ?? "",
  ];
}

/** Pool key: endpoint, user, a hash of the credentials and pin, and the whole jump chain. No secret in clear. */
export function poolKey(target: SshTarget): string {
  const material = JSON.stringify([endpointKey(target), ...target.jumpHosts.map(endpointKey)]);
  const hash = createHash("sha256").update(material).digest("hex").slice(0, 24);
  const via = target.jumpHosts.map(endpointLabel).join(">");
  return `${endpointLabel(target)}${via ? ` via ${via}` : ""}#${hash}`;
}

function registerTargetSecrets(target: SshTarget): void {
  for (const ep of [target, ...target.jumpHosts]) {
    registerSecret(ep.privateKey);
    registerSecret(ep.passphrase);
    registerSecret(ep.password);
  }
}

class PooledSession implements SshSession {
  readonly label: string;
  constructor(
    private readonly pool: SshPool,
    private readonly target: SshTarget,
    private conn: PooledConnection,
  ) {
    this.label = endpointLabel(target);
  }

  get hostKeyFingerprint(): string {
    return this.conn.chain.fingerprint;
  }

  /** The live connection, re-dialled when the pooled one died. */
  private async live(): Promise<PooledConnection> {
    if (!this.conn.alive) this.conn = await this.pool.acquire(this.target);
    return this.conn;
  }

  private async withChannel<T>(fn: (client: Client) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const conn = await this.live();
      await this.pool.takeChannel(conn);
      try {
        return await fn(conn.chain.client);
      } catch (err) {
        // The command never started on a connection that just died: safe to re-dial and start it once more.
        if (attempt === 1 && commandNotStarted(err)) {
          this.pool.evict(conn);
          continue;
        }
        throw err;
      } finally {
        this.pool.releaseChannel(conn);
      }
    }
  }

  exec(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const command = shellQuote(withSudo(argv, opts.sudo ?? this.target.sudo));
    const describe = redact(opts.describe ?? argv.slice(0, 2).join(" "));
    return this.withChannel((client) =>
      execOnClient(client, {
        label: this.label,
        command,
        describe,
        ...(opts.stdin !== undefined ? { stdin: opts.stdin } : {}),
        timeoutMs: opts.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS,
        maxOutputBytes: opts.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES,
      }),
    );
  }

  async run(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const res = await this.exec(argv, opts);
    if (res.exitCode !== 0) {
      throw new SshCommandError({
        target: this.label,
        command: redact(opts.describe ?? argv.slice(0, 2).join(" ")),
        exitCode: res.exitCode,
        stderrTail: tail(res.stderr || res.stdout),
      });
    }
    return res;
  }

  writeFileAtomic(path: string, data: FileData, mode: number): Promise<void> {
    return this.withChannel((client) => sftpWriteFileAtomic(client, path, data, mode));
  }
}

/**
 * The ssh2-backed {@link SshConnector}: one connection per (endpoint, user, credentials, jump chain), shared by
 * every resource of the provider process; concurrent callers share one dial; a connection that drops (close,
 * error, keepalive timeout) is evicted and the next use dials again, with retries and backoff.
 */
export class SshPool implements SshConnector {
  private readonly connections = new Map<string, Promise<PooledConnection>>();
  /** Dials made since creation (tests and benchmarks count them). */
  dials = 0;

  async session(target: SshTarget): Promise<SshSession> {
    registerTargetSecrets(target);
    const conn = await this.acquire(target);
    return new PooledSession(this, target, conn);
  }

  /** A live pooled connection for `target`, dialling when there is none. */
  async acquire(target: SshTarget): Promise<PooledConnection> {
    const key = poolKey(target);
    const existing = this.connections.get(key);
    if (existing !== undefined) {
      const conn = await existing.catch(() => undefined);
      if (conn?.alive) return conn;
      if (this.connections.get(key) === existing) this.connections.delete(key);
      return this.acquire(target);
    }
    const pending = this.dial(key, target);
    this.connections.set(key, pending);
    pending.catch(() => {
      if (this.connections.get(key) === pending) this.connections.delete(key);
    });
    return pending;
  }

  private async dial(key: string, target: SshTarget): Promise<PooledConnection> {
    const log = logger(`ssh ${endpointLabel(target)}`);
    const chain = await withRetry(
      (attempt) => {
        this.dials++;
        log.debug(`dialling (attempt ${attempt}/${target.dialAttempts})`);
        return dialOnce(target);
      },
      {
        attempts: target.dialAttempts,
        minDelayMs: 250,
        maxDelayMs: 5_000,
        retryOn: (err) => isTransientDialError(err),
        onRetry: (err, attempt, delay) =>
          log.info(
            `not reachable yet (attempt ${attempt}/${target.dialAttempts}, next in ${delay} ms): ${
              err instanceof Error ? err.message : String(err)
            }`,
          ),
      },
    );
    const conn: PooledConnection = { key, chain, alive: true, active: 0, queue: [] };
    const dead = () => this.evict(conn);
    for (const c of [chain.client, ...chain.hops]) {
      c.on("error", (err: Error) => {
        log.debug(`connection error: ${err.message}`);
        dead();
      });
      c.on("close", dead);
      c.on("end", dead);
    }
    log.debug(`connected, host key ${chain.fingerprint}`);
    return conn;
  }

  /** Marks a connection dead, removes it from the pool and closes its chain. */
  evict(conn: PooledConnection): void {
    const wasAlive = conn.alive;
    conn.alive = false;
    const current = this.connections.get(conn.key);
    if (current !== undefined) {
      current.then(
        (c) => {
          if (c === conn && this.connections.get(conn.key) === current) this.connections.delete(conn.key);
        },
        () => {},
      );
    }
    if (wasAlive) {
      for (const c of [conn.chain.client, ...[...conn.chain.hops].reverse()]) c.end();
    }
    // Wake waiters so they notice the connection is gone.
    for (const w of conn.queue.splice(0)) w();
  }

  /** Waits for a free channel slot on `conn`. */
  async takeChannel(conn: PooledConnection): Promise<void> {
    while (conn.active >= MAX_CHANNELS_PER_CONNECTION && conn.alive) {
      await new Promise<void>((r) => conn.queue.push(r));
    }
    conn.active++;
  }

  releaseChannel(conn: PooledConnection): void {
    conn.active--;
    conn.queue.shift()?.();
  }

  invalidate(target: SshTarget): void {
    const key = poolKey(target);
    const pending = this.connections.get(key);
    this.connections.delete(key);
    pending?.then(
      (c) => this.evict(c),
      () => {},
    );
  }

  async closeAll(): Promise<void> {
    const all = [...this.connections.values()];
    this.connections.clear();
    for (const p of all) {
      const c = await p.catch(() => undefined);
      if (c !== undefined) this.evict(c);
    }
  }

  /** Number of pooled connections (tests). */
  get size(): number {
    return this.connections.size;
  }
}

/** Creates an independent connector (its own pool). */
export function createSshConnector(): SshPool {
  return new SshPool();
}

/** The process-wide connector every resource shares. */
export const sshPool: SshPool = createSshConnector();
