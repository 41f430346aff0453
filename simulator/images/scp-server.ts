import { type ChildProcess, spawn } from "node:child_process";
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateEd25519KeyPair } from "../dpu/ssh-keys";

/** A real OpenSSH server the simulated BMCs pull images from with `scp` (BlueField SCP SimpleUpdate). */
export interface ScpImageServer {
  /** Address sshd listens on. */
  readonly host: string;
  readonly port: number;
  /** Directory whose files are served (absolute; the `<BFBPath>` of an ImageURI starts with it). */
  readonly dir: string;
  /** The server's host key as `ssh-keyscan` prints it after the address: `ssh-ed25519 AAAA…`. */
  readonly hostKey: string;
  /** Appends a line to the authorized_keys of the login user (what the operator does with the BMC's key). */
  authorize(publicKeyLine: string): void;
  /** Empties authorized_keys. */
  revokeAll(): void;
  close(): Promise<void>;
}

async function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, host, () => {
      const a = s.address();
      const port = typeof a === "object" && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/**
 * Starts `/usr/sbin/sshd -D` on `host` (a free port), key authentication only, root login allowed by key, the
 * login user's authorized_keys kept in a file of its own (never the machine's), SFTP served in process (OpenSSH
 * 9 `scp` speaks SFTP). Files to serve go into {@link ScpImageServer.dir}.
 */
export async function startScpImageServer(opts: { readonly host?: string } = {}): Promise<ScpImageServer> {
  const host = opts.host ?? "127.0.0.1";
  const root = mkdtempSync(join(tmpdir(), "sim-scp-"));
  const dir = join(root, "images");
  const hostKey = generateEd25519KeyPair("sim-scp-server");
  const keyFile = join(root, "host_ed25519");
  writeFileSync(keyFile, hostKey.privateKey, { mode: 0o600 });
  const authorized = join(root, "authorized_keys");
  writeFileSync(authorized, "", { mode: 0o600 });
  mkdirSync(dir, { mode: 0o755 });
  const port = await freePort(host);
  const config = join(root, "sshd_config");
  writeFileSync(
    config,
    [
      `ListenAddress ${host}`,
      `Port ${port}`,
      `HostKey ${keyFile}`,
      `AuthorizedKeysFile ${authorized}`,
      "PermitRootLogin prohibit-password",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "UsePAM no",
      "UseDNS no",
      "StrictModes no",
      `PidFile ${join(root, "sshd.pid")}`,
      "Subsystem sftp internal-sftp",
      "",
    ].join("\n"),
  );
  const proc: ChildProcess = spawn("/usr/sbin/sshd", ["-D", "-e", "-f", config], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let log = "";
  proc.stderr?.on("data", (d: Buffer) => {
    if (log.length < 8192) log += d.toString("utf8");
  });
  await new Promise<void>((resolve, reject) => {
    const deadline = Date.now() + 10_000;
    const tick = (): void => {
      if (proc.exitCode !== null) {
        reject(new Error(`sshd for the SCP image server exited: ${log}`));
        return;
      }
      if (/Server listening/.test(log)) {
        resolve();
        return;
      }
      if (Date.now() > deadline) {
        reject(new Error(`sshd for the SCP image server did not start: ${log}`));
        return;
      }
      setTimeout(tick, 20);
    };
    tick();
  });
  return {
    host,
    port,
    dir,
    hostKey: hostKey.publicKey.split(/\s+/).slice(0, 2).join(" "),
    authorize: (line) => appendFileSync(authorized, `${line.trim()}\n`),
    revokeAll: () => writeFileSync(authorized, ""),
    async close() {
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once("exit", r));
        proc.kill("SIGTERM");
        await exited;
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
}
