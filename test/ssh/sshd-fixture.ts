import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SshTarget } from "../../provider/ssh";
import { unavailable } from "../capabilities";

/**
 * Why `what` (tests of the real-sshd fixture) cannot run here, or undefined when it can; under CI a missing
 * prerequisite throws (the `sshd` capability of test/capabilities.ts).
 */
export function sshdUnavailable(what = "real-sshd tests"): string | undefined {
  return unavailable(what, "sshd");
}

/** The SSH target of the fixture's sshd as root with its client key and pinned host key (plus `extra`). */
export function sshdTarget(sshd: SshdFixture, extra: Partial<SshTarget> = {}): SshTarget {
  return {
    host: "127.0.0.1",
    port: sshd.port,
    username: "root",
    privateKey: sshd.clientKey,
    hostKey: sshd.hostKeyFingerprint,
    jumpHosts: [],
    dialAttempts: 3,
    dialTimeoutMs: 5_000,
    keepaliveIntervalMs: 5_000,
    sudo: false,
    ...extra,
  };
}

/** A free TCP port on 127.0.0.1 (released before returning). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host: "127.0.0.1", port });
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

/** A real OpenSSH server on 127.0.0.1 with a throw-away host key and client key (root login by key). */
export interface SshdFixture {
  readonly port: number;
  readonly dir: string;
  readonly clientKey: string;
  readonly hostKeyFingerprint: string;
  readonly hostPublicKey: string;
  /** Starts sshd (again) on the same port. */
  start(): Promise<void>;
  /** Stops the listener (existing sessions keep running). */
  stopListener(): Promise<void>;
  /** Kills every established session (children of the listener), like a dropped link. */
  dropConnections(): void;
  close(): Promise<void>;
}

/** Creates (does not start unless `start` is true) an sshd fixture. */
export async function createSshd(opts: { start?: boolean; port?: number } = {}): Promise<SshdFixture> {
  const dir = mkdtempSync(join(tmpdir(), "pulumi-dpu-sshd-"));
  mkdirSync("/run/sshd", { recursive: true });
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, "host_key")]);
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, "client_key")]);
  writeFileSync(join(dir, "authorized_keys"), readFileSync(join(dir, "client_key.pub")), { mode: 0o600 });
  const port = opts.port ?? (await freePort());
  const config = [
    `Port ${port}`,
    "ListenAddress 127.0.0.1",
    `HostKey ${join(dir, "host_key")}`,
    `PidFile ${join(dir, "sshd.pid")}`,
    `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
    "PermitRootLogin prohibit-password",
    "PasswordAuthentication no",
    "KbdInteractiveAuthentication no",
    "StrictModes no",
    "UsePAM no",
    "AllowTcpForwarding yes",
    "MaxStartups 100",
    "MaxSessions 20",
    "Subsystem sftp internal-sftp",
    process.env.SSHD_FIXTURE_DEBUG ? "LogLevel DEBUG1" : "LogLevel ERROR",
    // The host root's ~/.bashrc may be slow (pyenv, cargo): sessions get an empty HOME instead.
    `SetEnv HOME=${dir}`,
  ].join("\n");
  writeFileSync(join(dir, "sshd_config"), `${config}\n`);
  const fp = execFileSync("ssh-keygen", ["-l", "-f", join(dir, "host_key.pub")], { encoding: "utf8" });
  const hostKeyFingerprint = fp.split(" ")[1] ?? "";
  let proc: ChildProcess | undefined;

  const fixture: SshdFixture = {
    port,
    dir,
    clientKey: readFileSync(join(dir, "client_key"), "utf8"),
    hostKeyFingerprint,
    hostPublicKey: readFileSync(join(dir, "host_key.pub"), "utf8").trim(),
    async start() {
      proc = spawn("/usr/sbin/sshd", ["-D", "-e", "-f", join(dir, "sshd_config")], {
        stdio: ["ignore", "ignore", "pipe"],
      });
      let stderr = "";
      proc.stderr?.on("data", (b: Buffer) => {
        stderr += b.toString();
        if (process.env.SSHD_FIXTURE_DEBUG) process.stderr.write(`sshd: ${b.toString()}`);
      });
      for (let i = 0; i < 100; i++) {
        if (await canConnect(port)) return;
        if (proc.exitCode !== null) throw new Error(`sshd exited: ${stderr}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`sshd did not listen on ${port}: ${stderr}`);
    },
    async stopListener() {
      const p = proc;
      proc = undefined;
      if (p === undefined || p.exitCode !== null) return;
      const done = new Promise((r) => p.once("exit", r));
      p.kill("SIGTERM");
      await done;
    },
    dropConnections() {
      const pid = proc?.pid;
      if (pid === undefined) return;
      for (const entry of readdirSync("/proc")) {
        if (!/^\d+$/.test(entry)) continue;
        try {
          const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
          const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
          if (ppid === pid) process.kill(Number(entry), "SIGKILL");
        } catch {
          // process gone meanwhile
        }
      }
    },
    async close() {
      fixture.dropConnections();
      await fixture.stopListener();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  if (opts.start !== false) await fixture.start();
  return fixture;
}
