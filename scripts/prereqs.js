#!/usr/bin/env node
// Checks (and, as root with apt-get, installs) the system prerequisites of the DPU lab simulator.
// Plain CommonJS without dependencies: runs on Node 20 and later, before anything is built.
"use strict";

const { execFileSync, spawnSync } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");

/** Commands the lab runs, with the Debian package that provides each. */
const COMMANDS = [
  { cmd: "ip", pkg: "iproute2" },
  { cmd: "sshd", pkg: "openssh-server", paths: ["/usr/sbin/sshd"] },
  { cmd: "ssh", pkg: "openssh-client" },
  { cmd: "ssh-keygen", pkg: "openssh-client" },
  { cmd: "tini", pkg: "tini" },
  { cmd: "xorriso", pkg: "xorriso" },
  { cmd: "openssl", pkg: "openssl" },
  { cmd: "unshare", pkg: "util-linux" },
  { cmd: "nsenter", pkg: "util-linux" },
  { cmd: "ping", pkg: "iputils-ping" },
  // The sim CLI test calls a BMC the way the README shows (curl --cacert).
  { cmd: "curl", pkg: "curl" },
  // The secret-hygiene test records every process started on the DPUs (strace on each DPU's sshd).
  { cmd: "strace", pkg: "strace" },
  // The systemd renderer test verifies generated units with systemd-analyze; lab tests read ps.
  { cmd: "systemd-analyze", pkg: "systemd" },
  { cmd: "ps", pkg: "procps" },
  // Namespace DPUs run the shell of their OS image as /bin/sh: dash (Debian/Ubuntu-like) or busybox ash (minimal).
  { cmd: "dash", pkg: "dash", paths: ["/usr/bin/dash", "/bin/dash"] },
  { cmd: "busybox", pkg: "busybox", paths: ["/usr/bin/busybox", "/bin/busybox"] },
  // The dashboard test drives the lab's fleet dashboard in headless Chromium (playwright-core).
  { cmd: "chromium", pkg: "chromium", paths: ["/usr/bin/chromium"] },
  // The independent-client test drives the simulator with Ironic's Redfish library and Ansible's redfish modules.
  {
    cmd: "sushy",
    pkg: "python3-sushy",
    file: true,
    paths: ["/usr/lib/python3/dist-packages/sushy/__init__.py"],
  },
  { cmd: "ansible-playbook", pkg: "ansible" },
  // test/lint/shellcheck.test.ts checks the shell sent to DPUs (provider/**/assets/*.sh) as dash.
  { cmd: "shellcheck", pkg: "shellcheck" },
  // test/seed/cloud-init-oracle.test.ts validates the NoCloud seed with cloud-init itself (its schema and its
  // network renderer). On a machine with no datasource, cloud-init's ds-identify keeps it disabled at boot.
  { cmd: "cloud-init", pkg: "cloud-init" },
];
const ALL_PACKAGES = [
  "openssh-server",
  "openssh-client",
  "iproute2",
  "tini",
  "xorriso",
  "openssl",
  "util-linux",
  "iputils-ping",
  "curl",
  "strace",
  "systemd",
  "procps",
  "dash",
  "busybox",
  "chromium",
  "python3-sushy",
  "ansible",
  "shellcheck",
  "cloud-init",
];

// `--vm`: the QEMU VM proof (npm run test:vm) also needs QEMU and UEFI firmware. The image build script
// (simulator/vm/build-image.sh) installs its own build tools (mmdebstrap, squashfs-tools, grub…) when missing.
if (process.argv.includes("--vm")) {
  COMMANDS.push(
    { cmd: "qemu-system-x86_64", pkg: "qemu-system-x86" },
    { cmd: "qemu-img", pkg: "qemu-utils" },
    {
      cmd: "OVMF_CODE.fd",
      pkg: "ovmf",
      file: true,
      paths: ["/usr/share/OVMF/OVMF_CODE.fd", "/usr/share/OVMF/OVMF_CODE_4M.fd"],
    },
  );
  ALL_PACKAGES.push("qemu-system-x86", "qemu-utils", "ovmf");
}

function findCommand(entry) {
  const dirs = (process.env.PATH || "")
    .split(path.delimiter)
    .concat(["/usr/sbin", "/sbin", "/usr/bin", "/bin"]);
  const candidates = (entry.paths || []).concat(dirs.filter(Boolean).map((d) => path.join(d, entry.cmd)));
  for (const c of candidates) {
    try {
      fs.accessSync(c, entry.file ? fs.constants.R_OK : fs.constants.X_OK);
      if (fs.statSync(c).isFile()) return c;
    } catch {
      // keep looking
    }
  }
  return undefined;
}

function missingCommands() {
  return COMMANDS.filter((e) => !findCommand(e));
}

function isRoot() {
  return typeof process.getuid === "function" && process.getuid() === 0;
}

/** Kernel features: network namespaces and overlayfs (tmpfs and bridges are checked at lab start). */
function kernelProblems() {
  const problems = [];
  if (!fs.existsSync("/proc/self/ns/net"))
    problems.push("kernel without network namespaces (/proc/self/ns/net)");
  let filesystems = "";
  try {
    filesystems = fs.readFileSync("/proc/filesystems", "utf8");
  } catch {
    problems.push("cannot read /proc/filesystems");
  }
  if (filesystems && !/\toverlay\n/.test(filesystems)) {
    // overlay may be a module that is not loaded yet
    if (isRoot() && findCommand({ cmd: "modprobe" })) spawnSync("modprobe", ["overlay"], { stdio: "ignore" });
    const again = fs.readFileSync("/proc/filesystems", "utf8");
    if (!/\toverlay\n/.test(again)) problems.push("kernel without overlayfs (modprobe overlay)");
  }
  return problems;
}

function main() {
  const problems = [];
  if (process.platform !== "linux") {
    console.error("prereqs: the DPU lab simulator needs Linux (network namespaces, overlayfs)");
    return 1;
  }
  if (!isRoot())
    problems.push("not running as root (the lab creates network namespaces, bridges and mounts)");
  problems.push(...kernelProblems());

  let missing = missingCommands();
  if (missing.length > 0 && isRoot() && findCommand({ cmd: "apt-get" })) {
    const pkgs = Array.from(new Set(missing.map((m) => m.pkg)));
    console.log(`prereqs: installing ${pkgs.join(" ")} (missing: ${missing.map((m) => m.cmd).join(", ")})`);
    const env = Object.assign({}, process.env, { DEBIAN_FRONTEND: "noninteractive" });
    try {
      execFileSync("apt-get", ["update"], { stdio: "inherit", env });
      execFileSync("apt-get", ["install", "-y", "--no-install-recommends"].concat(pkgs), {
        stdio: "inherit",
        env,
      });
    } catch (e) {
      console.error(`prereqs: apt-get failed: ${e.message}`);
    }
    missing = missingCommands();
  }
  if (missing.length > 0) {
    problems.push(`missing commands: ${missing.map((m) => m.cmd).join(", ")}`);
  }
  if (problems.length > 0) {
    console.error("prereqs: the DPU lab simulator cannot run here:");
    for (const p of problems) console.error(`  - ${p}`);
    if (missing.length > 0) {
      const pkgs = Array.from(new Set(missing.map((m) => m.pkg)));
      console.error(`to install the missing tools (Debian/Ubuntu), as root:`);
      console.error(`  apt-get update && apt-get install -y --no-install-recommends ${pkgs.join(" ")}`);
    }
    console.error(`all lab packages: ${ALL_PACKAGES.join(" ")}`);
    return 1;
  }
  console.log(`prereqs: ok (${COMMANDS.map((c) => c.cmd).join(", ")}; root; netns; overlayfs)`);
  return 0;
}

process.exitCode = main();
