import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { SHARED_ROOT } from "./shared-material";

/**
 * The one place that decides whether this machine can run a kind of test. Each capability has one set of
 * criteria; a test names the capabilities it needs and calls {@link skipUnless} (or {@link unavailable}).
 * Outside CI a missing capability skips (with a warning naming it); with `CI` set it throws: CI fails loudly,
 * it never skips.
 */
export type Capability =
  /** Linux, running as root (network namespaces, bridges, mounts). */
  | "root"
  /** A real sshd with a private config: root, `/usr/sbin/sshd`, `ssh-keygen`. */
  | "sshd"
  /** The namespace DPU lab: root, iproute2, sshd, tini, nsenter, unshare, xorriso, and both DPU shells. */
  | "lab"
  /** The QEMU VM lab: the lab's needs, `/dev/net/tun` and `qemu-system-x86_64`. */
  | "vm"
  /** DMTF Redfish schemas and the Base registry (the shared reference material). */
  | "redfish-schemas"
  /** The shared Redfish mockups (public captures). */
  | "mockups"
  /** The built runtime (`dist/`, what `require("pulumi-dpu/provider")` and the CLI load): `npm run build`. */
  | "dist"
  /** Debian's Chromium (the dashboard's browser tests). */
  | "chromium"
  /** Independent Redfish clients: python3-sushy and Ansible with community.general. */
  | "redfish-clients"
  /** `python3` with its `pty` module (CLI tests on a real terminal). */
  | "python3"
  /** `shellcheck` (Debian package). */
  | "shellcheck"
  /** `systemd-analyze` (unit verification). */
  | "systemd-analyze"
  /** `strace` (the lab's exec audit). */
  | "strace"
  /** The three shells scripts sent to DPUs must run under: dash, busybox ash and bash. */
  | "dpu-shells";

/** The repository root. */
export const REPO_ROOT = resolve(__dirname, "..");

const LAB_BINARIES = [
  "/usr/sbin/sshd",
  "/usr/bin/tini",
  "/usr/bin/nsenter",
  "/usr/bin/unshare",
  "/usr/bin/xorriso",
];
const SUSHY_INIT = "/usr/lib/python3/dist-packages/sushy/__init__.py";
const COMMUNITY_GENERAL =
  "/usr/lib/python3/dist-packages/ansible_collections/community/general/plugins/modules/redfish_command.py";

function runs(cmd: string, args: readonly string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

function onPath(bin: string): boolean {
  return (process.env.PATH ?? "/usr/bin:/bin").split(":").some((d) => d !== "" && existsSync(join(d, bin)));
}

const CHECKS: Readonly<Record<Capability, () => string | undefined>> = {
  root: () => {
    if (process.platform !== "linux") return "needs Linux";
    if (typeof process.getuid !== "function" || process.getuid() !== 0)
      return "needs root (network namespaces, sshd with a private config)";
    return undefined;
  },
  sshd: () =>
    CHECKS.root() ??
    (!existsSync("/usr/sbin/sshd")
      ? "needs /usr/sbin/sshd (openssh-server)"
      : !onPath("ssh-keygen")
        ? "needs ssh-keygen (openssh-client)"
        : undefined),
  lab: () => {
    const r = CHECKS.sshd();
    if (r) return r;
    if (!runs("ip", ["-V"])) return "needs iproute2 (ip)";
    for (const bin of LAB_BINARIES)
      if (!existsSync(bin)) return `missing ${bin} (run: node scripts/prereqs.js)`;
    // The DPU images' /bin/sh: dash (the default image) and busybox ash (the minimal image).
    for (const bin of ["dash", "busybox"]) {
      if (!existsSync(`/usr/bin/${bin}`) && !existsSync(`/bin/${bin}`))
        return `missing ${bin} (run: node scripts/prereqs.js)`;
    }
    return undefined;
  },
  vm: () => {
    const r = CHECKS.lab();
    if (r) return r;
    if (!existsSync("/dev/net/tun")) return "the VM lab needs /dev/net/tun";
    if (!runs("qemu-system-x86_64", ["--version"]))
      return "qemu-system-x86_64 is missing (apt-get install qemu-system-x86 ovmf)";
    return undefined;
  },
  "redfish-schemas": () => {
    const dir = join(SHARED_ROOT, "redfish");
    return existsSync(join(dir, "schemas")) && existsSync(join(dir, "registries", "Base.1.22.1.json"))
      ? undefined
      : `${dir} (DMTF schemas and Base registry) is missing`;
  },
  mockups: () => {
    const dir = join(SHARED_ROOT, "redfish", "mockups");
    return existsSync(join(dir, "public-rackmount1"))
      ? undefined
      : `shared Redfish mockups missing at ${dir}`;
  },
  dist: () =>
    existsSync(join(REPO_ROOT, "dist", "provider", "index.js")) &&
    existsSync(join(REPO_ROOT, "dist", "cli", "sim.js"))
      ? undefined
      : "dist/ is not built (npm run build)",
  chromium: () =>
    existsSync("/usr/bin/chromium")
      ? undefined
      : "missing /usr/bin/chromium (apt-get install chromium, or: node scripts/prereqs.js)",
  "redfish-clients": () => {
    if (!existsSync("/usr/bin/python3")) return "missing /usr/bin/python3";
    if (!existsSync(SUSHY_INIT)) return "missing python3-sushy (run: node scripts/prereqs.js)";
    if (!existsSync("/usr/bin/ansible-playbook") || !existsSync(COMMUNITY_GENERAL))
      return "missing ansible with community.general (run: node scripts/prereqs.js)";
    return undefined;
  },
  python3: () => (runs("python3", ["-c", "import pty"]) ? undefined : "python3 (with pty) is missing"),
  shellcheck: () =>
    onPath("shellcheck") ? undefined : "shellcheck is not installed (Debian package shellcheck)",
  "systemd-analyze": () => (onPath("systemd-analyze") ? undefined : "systemd-analyze is missing"),
  "dpu-shells": () => {
    for (const bin of ["/usr/bin/dash", "/bin/busybox", "/bin/bash"])
      if (!existsSync(bin)) return `${bin} is not installed (dash, busybox and bash are needed)`;
    return undefined;
  },
  strace: () => (onPath("strace") ? undefined : "needs strace (apt-get install strace) for the exec audit"),
};

const cache = new Map<Capability, string | undefined>();

/** Why this machine lacks one of `caps` (the first missing), or `undefined` when it has them all. Never throws. */
export function missingCapability(...caps: readonly Capability[]): string | undefined {
  for (const c of caps) {
    if (!cache.has(c)) cache.set(c, CHECKS[c]());
    const r = cache.get(c);
    if (r !== undefined) return r;
  }
  return undefined;
}

/** True when the environment asks tests to fail rather than skip (`CI` set to anything but empty/`false`/`0`). */
export function inCi(): boolean {
  const v = process.env.CI;
  return v !== undefined && v !== "" && v !== "false" && v !== "0";
}

/**
 * Why `what` cannot run here, or `undefined`. With CI set a missing capability throws (the file fails);
 * elsewhere it warns once and returns the reason, for `describe.skipIf(reason !== undefined)`.
 */
export function unavailable(what: string, ...caps: readonly Capability[]): string | undefined {
  return skipOrFail(what, missingCapability(...caps));
}

/**
 * For a test's own further prerequisite (`reason`, found by the test): under CI a reason throws, elsewhere it
 * is warned about and returned (skip). `undefined` passes through.
 */
export function skipOrFail(what: string, reason: string | undefined): string | undefined {
  if (reason === undefined) return undefined;
  if (inCi()) throw new Error(`${what} cannot run: ${reason}`);
  console.warn(`skipping ${what}: ${reason}`);
  return reason;
}

/** True when `what` must be skipped here (see {@link unavailable}: under CI it throws instead). */
export function skipUnless(what: string, ...caps: readonly Capability[]): boolean {
  return unavailable(what, ...caps) !== undefined;
}
