import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { expect } from "vitest";
import type { SshSession } from "../../provider/ssh";
import { unavailable } from "../capabilities";

/** Why `what` cannot run here, or undefined; under CI a missing lab prerequisite throws (test/capabilities.ts). */
export function labUnavailable(what = "DpuUnderlay lab tests"): string | undefined {
  return unavailable(what, "lab");
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

/**
 * Asserts the refusal a DPU whose kernel lacks 802.1Q gives for a declared VLAN: an error naming the missing
 * 8021q module and saying nothing was changed. The VLAN proof on a kernel with 8021q is in these tests' other
 * branch and in test/vm (a real kernel).
 */
export function expectVlanRefused(err: unknown): void {
  expect(err).toBeInstanceOf(Error);
  const message = (err as Error).message;
  expect(message).toMatch(/kernel has no 802\.1Q VLAN support \(the 8021q module is missing/);
  expect(message).toMatch(/nothing was changed/);
}

/** Addresses, MTU and state of every link, and the routes: what must be back after a rollback or delete. */
export async function linkSnapshot(s: SshSession) {
  const links = JSON.parse((await s.run(["ip", "-json", "addr", "show"])).stdout) as {
    ifname: string;
    mtu: number;
    flags: string[];
    addr_info: { local: string; prefixlen: number; scope: string }[];
  }[];
  const routes = (await s.run(["ip", "route", "show", "table", "all"])).stdout
    .split("\n")
    .filter((l) => !l.startsWith("local") && !/fe80|ff00|multicast/.test(l))
    .sort();
  return {
    links: links.map((l) => ({
      name: l.ifname,
      mtu: l.mtu,
      up: l.flags.includes("UP"),
      addrs: l.addr_info
        .filter((x) => x.scope === "global")
        .map((x) => `${x.local}/${x.prefixlen}`)
        .sort(),
    })),
    routes,
  };
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
