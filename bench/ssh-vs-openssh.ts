/**
 * Warm SSH reads against OpenSSH, in the same run: `dpuUnderlay.read` and `dpuWorkload.read` on a warm pooled
 * connection, against the same remote command (the read's one round trip, captured from the provider: argv and
 * stdin) run by the `ssh` client over a warm OpenSSH ControlMaster. Both alternate, read after read, so they
 * see the same machine load. Target: every warm read within 1.2× of OpenSSH (medians).
 * The OpenSSH side does not pin the host key (StrictHostKeyChecking=no, an empty known_hosts): it is a timing
 * reference on a throwaway lab, not a way to connect to a real DPU.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setLogSink } from "../provider/log";
import { createDpuUnderlayProvider } from "../provider/resources/dpu-underlay";
import { createDpuWorkloadProvider } from "../provider/resources/dpu-workload";
import { createSshConnector, shellQuote } from "../provider/ssh";
import type { ExecOptions, SshConnector, SshSession, SshTarget } from "../provider/ssh/types";
import { startLab } from "../simulator";
import { connectionOf } from "./lab";
import { type LoadWindow, type Spread, sampleLoad, spread } from "./stats";

/** The target: a warm provider read within this ratio of the same command over an OpenSSH ControlMaster. */
export const OPENSSH_RATIO_TARGET = 1.2;

/** One resource type's figures. */
export interface SshReadComparison {
  /** Provider read() latency on a warm connection, ms. */
  readonly providerMs: Spread;
  /** The same command through `ssh` over a warm ControlMaster (client process start included), ms. */
  readonly opensshMs: Spread;
  /** providerMs.median / opensshMs.median. */
  readonly ratio: number;
  /** Round trips per provider read (captured). */
  readonly roundTripsPerRead: number;
}

/** What the benchmark measured. */
export interface SshVsOpensshResult {
  readonly reads: number;
  readonly underlay: SshReadComparison;
  readonly workload: SshReadComparison;
  readonly load: LoadWindow;
}

/** A connector that records every remote command (argv, stdin) sent through it. */
class Recorder implements SshConnector {
  commands: { argv: readonly string[]; stdin?: string | Uint8Array }[] = [];
  constructor(private readonly inner: SshConnector) {}
  async session(t: SshTarget): Promise<SshSession> {
    const s = await this.inner.session(t);
    const rec = (argv: readonly string[], o?: ExecOptions) => {
      this.commands.push({ argv, ...(o?.stdin !== undefined ? { stdin: o.stdin } : {}) });
    };
    return {
      label: s.label,
      hostKeyFingerprint: s.hostKeyFingerprint,
      exec: (a, o) => {
        rec(a, o);
        return s.exec(a, o);
      },
      run: (a, o) => {
        rec(a, o);
        return s.run(a, o);
      },
      writeFileAtomic: (p, d, m) => {
        rec(["<sftp write>", p]);
        return s.writeFileAtomic(p, d, m);
      },
    };
  }
  invalidate(t: SshTarget): void {
    this.inner.invalidate(t);
  }
  closeAll(): Promise<void> {
    return this.inner.closeAll();
  }
}

function sshOnce(args: readonly string[], stdin: string | Uint8Array | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    const t = performance.now();
    const child = spawn("ssh", args, { stdio: ["pipe", "ignore", "pipe"] });
    let err = "";
    child.stderr.on("data", (d: Buffer) => {
      err += d.toString();
    });
    child.once("error", reject);
    child.once("close", (code) => {
      if (code !== 0) reject(new Error(`ssh over the ControlMaster exited ${code}: ${err.slice(0, 300)}`));
      else resolve(performance.now() - t);
    });
    child.stdin.end(stdin ?? "");
  });
}

/** Runs the comparison: `reads` alternating reads per side and resource type. */
export async function benchSshVsOpenssh(reads = 20): Promise<SshVsOpensshResult> {
  const before = sampleLoad();
  const restore = setLogSink(() => undefined);
  const lab = await startLab({ count: 1, bootTimeMs: 0 });
  const pool = createSshConnector();
  const rec = new Recorder(pool);
  const dir = mkdtempSync(join(tmpdir(), "dpu-bench-openssh-"));
  const ctl = join(dir, "ctl");
  const d = lab.endpoints.dpus[0]!;
  const base = [
    "-S",
    ctl,
    "-p",
    String(d.ssh.port),
    "-o",
    "StrictHostKeyChecking=no",
    "-o",
    `UserKnownHostsFile=${join(dir, "known_hosts")}`,
    "-o",
    "BatchMode=yes",
    "-o",
    "LogLevel=ERROR",
  ];
  const dest = `${d.ssh.username}@${d.ssh.host}`;
  try {
    const key = join(dir, "key");
    writeFileSync(key, readFileSync(d.ssh.privateKeyFile), { mode: 0o600 });
    const master = spawnSync(
      "ssh",
      [...base, "-i", key, "-M", "-o", "ControlPersist=600", "-f", "-N", dest],
      { timeout: 30_000 },
    );
    if (master.status !== 0) throw new Error(`OpenSSH ControlMaster did not start: ${master.stderr}`);
    const connection = connectionOf(d);
    const underlay = createDpuUnderlayProvider({ connector: rec });
    const workload = createDpuWorkloadProvider({ connector: rec });
    const uIn = (
      await underlay.check!(
        {},
        { connection, interfaces: [{ name: "p0", mtu: 1400, addresses: ["198.19.1.1/24"] }] },
      )
    ).inputs;
    const u = await underlay.create!(uIn);
    const wIn = (
      await workload.check!(
        {},
        { connection, name: "bench", runtime: "process", command: ["sleep", "600"], state: "stopped" },
      )
    ).inputs;
    const w = await workload.create!(wIn);
    const compare = async (read: () => Promise<unknown>): Promise<SshReadComparison> => {
      await read(); // warm
      rec.commands = [];
      await read();
      const captured = [...rec.commands];
      const cmd = captured[captured.length - 1];
      if (!cmd) throw new Error("the read sent no remote command");
      const remote = [...base, dest, "--", shellQuote(cmd.argv)];
      await sshOnce(remote, cmd.stdin); // warm the client side too
      const p: number[] = [];
      const o: number[] = [];
      for (let i = 0; i < reads; i++) {
        const t = performance.now();
        await read();
        p.push(performance.now() - t);
        o.push(await sshOnce(remote, cmd.stdin));
      }
      const providerMs = spread(p);
      const opensshMs = spread(o);
      return {
        providerMs,
        opensshMs,
        ratio: Math.round((providerMs.median / opensshMs.median) * 100) / 100,
        roundTripsPerRead: captured.length,
      };
    };
    const uRes = await compare(() => underlay.read!(u.id, u.outs));
    const wRes = await compare(() => workload.read!(w.id, w.outs));
    await workload.delete!(w.id, w.outs);
    return { reads, underlay: uRes, workload: wRes, load: { before, after: sampleLoad() } };
  } finally {
    spawnSync("ssh", [...base, "-O", "exit", dest], { timeout: 10_000 });
    restore();
    await pool.closeAll();
    await lab.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
