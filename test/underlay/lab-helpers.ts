import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import type { SshConnector, SshSession, SshTarget } from "../../provider/ssh";

/** Why the lab cannot run here, or undefined. */
export function labUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return "needs root (network namespaces)";
  try {
    execFileSync("ip", ["-V"]);
  } catch {
    return "needs iproute2";
  }
  return undefined;
}

/** True when the kernel can create 802.1Q VLAN links (this sandbox's kernel may lack 8021q). */
export function kernelHasVlan(): boolean {
  const ns = `pdvlanprobe${process.pid}`;
  try {
    execFileSync("ip", ["netns", "add", ns]);
    execFileSync("ip", ["-n", ns, "link", "add", "a", "type", "veth", "peer", "name", "b"]);
    execFileSync("ip", ["-n", ns, "link", "add", "link", "a", "name", "a.5", "type", "vlan", "id", "5"], {
      stdio: "ignore",
    });
    return true;
  } catch {
    return false;
  } finally {
    try {
      execFileSync("ip", ["netns", "del", ns], { stdio: "ignore" });
    } catch {
      // not created
    }
  }
}

/** The `connection` input of a lab DPU. */
export function connectionOf(dpu: {
  ssh: { host: string; port: number; username: string; privateKeyFile: string; hostKeyFingerprint: string };
}) {
  return {
    host: dpu.ssh.host,
    port: dpu.ssh.port,
    username: dpu.ssh.username,
    privateKey: readFileSync(dpu.ssh.privateKeyFile, "utf8"),
    hostKey: dpu.ssh.hostKeyFingerprint,
    jumpHosts: [],
    dialAttempts: 5,
    dialTimeoutMs: 5_000,
    keepaliveIntervalMs: 2_000,
    sudo: false,
  };
}

/** Wraps a connector, counting remote commands (round trips) per operation. */
export function countingConnector(inner: SshConnector): SshConnector & { execs: number } {
  const wrap = (s: SshSession): SshSession => ({
    label: s.label,
    get hostKeyFingerprint() {
      return s.hostKeyFingerprint;
    },
    exec: (argv, o) => {
      counter.execs++;
      return s.exec(argv, o);
    },
    run: (argv, o) => {
      counter.execs++;
      return s.run(argv, o);
    },
    writeFileAtomic: (p, d, m) => {
      counter.execs++;
      return s.writeFileAtomic(p, d, m);
    },
  });
  const counter = {
    execs: 0,
    session: async (t: SshTarget) => wrap(await inner.session(t)),
    invalidate: (t: SshTarget) => inner.invalidate(t),
    closeAll: () => inner.closeAll(),
  };
  return counter;
}

/**
 * Every process on the DPU that is not part of its OS (init, sshd, the idle `sleep infinity`) nor this
 * listing itself: what an apply left behind. Reads /proc, so it works with any `ps` (or none).
 */
export async function strayProcesses(s: SshSession): Promise<string[]> {
  const r = await s.run([
    "sh",
    "-c",
    `for p in /proc/[0-9]*; do c=$(tr '\\0' ' ' < "$p/cmdline" 2>/dev/null) || continue; [ -n "$c" ] && printf '%s %s\\n' "\${p#/proc/}" "$c"; done; :`,
    "pulumi-dpu-test-ps",
  ]);
  return r.stdout
    .split("\n")
    .filter((l) => l.trim() !== "")
    .filter((l) => {
      const args = l.slice(l.indexOf(" ") + 1).trim();
      return !/^(sshd|tini|sleep infinity|tr )/.test(args) && !args.includes("pulumi-dpu-test-ps");
    });
}
