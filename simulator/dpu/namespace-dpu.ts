import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { chmod, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { join } from "node:path";
import type { BootImage, DpuOsBackend, DpuPort } from "../contracts";
import { bootScript } from "./boot-script";
import { createDiskCore } from "./disk-core";
import { exec, ipBatch, sleep } from "./exec";
import {
  HOST_KEY,
  newHostKey,
  OVERLAY_DIRS,
  osRelease,
  PRIVATE_DIRS,
  SSHD_CONFIG,
  sshdConfig,
} from "./os-files";
import {
  DEFAULT_DPU_SHELL,
  type DpuShell,
  loginShell,
  passwdWithRootShell,
  shellBinary,
  shellDirs,
} from "./os-shell";
import { netnsInode, pidsInNetns, procInfo, signalPid } from "./procfs";

/** Options of {@link createNamespaceDpu}. The network namespace and its links must already exist. */
export interface NamespaceDpuOptions {
  /** DPU name (`dpu-0`); also its hostname. */
  readonly name: string;
  /** Network namespace holding `oob_net0` (addressed), `p0` and `p1`. */
  readonly netns: string;
  /** Address of `oob_net0`; sshd listens here. */
  readonly mgmtIp: string;
  /** Per-DPU state directory (disk, boot script, console log). Created if missing. */
  readonly dir: string;
  /** Ports in the order oob_net0, p0, p1 with their MACs. */
  readonly ports: readonly DpuPort[];
  /** OpenSSH public key lines authorized for root (installed the way a kickstart would). */
  readonly authorizedKeys: readonly string[];
  /** Name servers written to /etc/resolv.conf. Default: none (a comment only). */
  readonly nameservers?: readonly string[];
  /** How long `start` waits for sshd, in ms. Default 20 s. */
  readonly startTimeoutMs?: number;
  /**
   * Addresses sshd listens on (default: `mgmtIp` only). The lightweight lab serves several DPUs, each with its
   * own address in this namespace, from one sshd.
   */
  readonly listenAddresses?: readonly string[];
  /**
   * Exec audit: after every boot, `strace -f -e trace=execve` is attached to the DPU's sshd listener and
   * appends the argv of every process started through SSH (and their descendants) to this file.
   */
  readonly execAuditFile?: string;
  /**
   * The OS image's `/bin/sh` (see {@link DpuShell}): `dash` (default, the Debian/Ubuntu-like image, root's login
   * shell bash) or `busybox` (a minimal image: busybox ash as `/bin/sh` and root's login shell, no bash).
   * Written into the DPU's /etc/passwd at install and into its `/usr/bin` overlay at every boot.
   */
  readonly shell?: DpuShell;
}

/** A {@link DpuOsBackend} backed by a network namespace, with lab-facing extras. */
export interface NamespaceDpu extends DpuOsBackend {
  readonly netns: string;
  readonly mgmtIp: string;
  /** Fingerprint (`SHA256:…`) of the installed host key, or `undefined` for a blank DPU. */
  hostKeyFingerprint(): string | undefined;
  /** Host pid of the DPU's init (PID 1 of its pid namespace), while running. */
  initPid(): number | undefined;
  /** Host pid of the DPU's sshd listener, while running. */
  sshdPid(): number | undefined;
  /** The image's `/bin/sh` ({@link NamespaceDpuOptions.shell}). */
  readonly shell: DpuShell;
  /**
   * Lab teardown: kills the DPU without flushing its ports and makes every later `start` fail. Resolves once
   * the kill signal is sent; the caller waits for the namespace to empty.
   */
  abandon(): void;
}

const DATA_PORTS = ["p0", "p1"] as const;

interface IpLink {
  ifname: string;
}
interface IpRoute {
  dst?: string;
  dev?: string;
  protocol?: string;
  table?: string;
  type?: string;
}

/**
 * Creates the operating-system backend of one DPU living in network namespace `opts.netns`.
 *
 * The disk is `<dir>/disk`: overlay upper directories for /etc and /var, private /opt, /root, /home and /srv. Booting runs
 * `boot.sh` as PID 1 of new UTS, mount and pid namespaces (see {@link bootScript}); stopping kills that PID 1.
 */
export function createNamespaceDpu(opts: NamespaceDpuOptions): NamespaceDpu {
  if (opts.dir.includes("'")) throw new Error(`state directory must not contain a quote: ${opts.dir}`);
  const diskDir = join(opts.dir, "disk");
  const imageFile = join(diskDir, "image.json");
  const consoleLog = join(opts.dir, "console.log");
  const startTimeoutMs = opts.startTimeoutMs ?? 20_000;
  const shell = opts.shell ?? DEFAULT_DPU_SHELL;
  const binDirs = shellDirs();
  let isRunning = false;
  let abandoned = false;
  let pid1: number | undefined;
  let child: ChildProcess | undefined;
  const disk = createDiskCore({
    name: opts.name,
    diskDir,
    imageFile,
    hostKeyPubFile: join(diskDir, "upper", `${HOST_KEY}.pub`),
    running: () => isRunning,
    writeDisk: (img) => writeDisk(img),
  });
  const serial = disk.serial;

  const nsPids = (): number[] => {
    const ino = netnsInode(opts.netns);
    if (ino === undefined) return [];
    return pidsInNetns(new Set([ino])).get(ino) ?? [];
  };

  /** Host pid of the process whose pid inside the DPU's pid namespace is `nsPid`. */
  const hostPidOf = (nsPid: number): number | undefined => {
    for (const pid of nsPids()) {
      const info = procInfo(pid);
      if (info && info.nsPids.length > 1 && info.nsPids[info.nsPids.length - 1] === nsPid) return pid;
    }
    return undefined;
  };

  const sshdListenerPid = (): number | undefined => {
    if (pid1 === undefined) return undefined;
    let nsPid: number;
    try {
      nsPid = Number(readFileSync(`/proc/${pid1}/root/run/sshd.pid`, "utf8").trim());
    } catch {
      return undefined;
    }
    const host = hostPidOf(nsPid);
    return host !== undefined && procInfo(host)?.comm === "sshd" ? host : undefined;
  };

  const portOpen = (): Promise<boolean> =>
    new Promise((resolve) => {
      const sock = connect({ host: opts.mgmtIp, port: 22 });
      const done = (ok: boolean): void => {
        sock.destroy();
        resolve(ok);
      };
      sock.setTimeout(1000, () => done(false));
      sock.once("connect", () => done(true));
      sock.once("error", () => done(false));
    });

  const waitFor = async (what: string, cond: () => boolean | Promise<boolean>, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    let delay = 5;
    while (!(await cond())) {
      if (Date.now() > deadline) throw new Error(`${opts.name}: timed out waiting for ${what}`);
      await sleep(delay);
      delay = Math.min(delay * 2, 100);
    }
  };

  const consoleTail = (): string => {
    try {
      return readFileSync(consoleLog, "utf8").trim().split("\n").slice(-5).join(" | ");
    } catch {
      return "";
    }
  };

  /** Writes the disk of `img`; returns the new host key's public half. */
  const writeDisk = async (img: BootImage): Promise<string> => {
    await rm(diskDir, { recursive: true, force: true });
    for (const d of OVERLAY_DIRS) {
      await mkdir(join(diskDir, "upper", d), { recursive: true, mode: 0o755 });
      await mkdir(join(diskDir, "work", d), { recursive: true, mode: 0o755 });
    }
    for (const d of PRIVATE_DIRS) await mkdir(join(diskDir, "upper", d), { recursive: true, mode: 0o755 });
    await makeShellDirs();
    const etc = join(diskDir, "upper", "etc");
    // The image decides root's login shell: sshd runs every session's command line through it.
    await writeFile(
      join(etc, "passwd"),
      passwdWithRootShell(await readFile("/etc/passwd", "utf8"), loginShell(shell)),
      { mode: 0o644 },
    );
    await chmod(join(diskDir, "upper", "root"), 0o700);
    await mkdir(join(etc, "ssh", "authorized_keys.d"), { recursive: true, mode: 0o755 });
    await writeFile(join(etc, "os-release"), osRelease(img), { mode: 0o644 });
    await writeFile(join(etc, "hostname"), `${opts.name}\n`, { mode: 0o644 });
    await writeFile(
      join(etc, "hosts"),
      `127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n${opts.mgmtIp}\t${opts.name}\n`,
      { mode: 0o644 },
    );
    const ns = opts.nameservers ?? [];
    await writeFile(
      join(etc, "resolv.conf"),
      `# ${opts.name}: written at install\n${ns.map((n) => `nameserver ${n}`).join("\n")}${ns.length ? "\n" : ""}`,
      { mode: 0o644 },
    );
    await writeFile(join(etc, "ssh", "sshd_config.dpu"), sshdConfig(opts.listenAddresses ?? opts.mgmtIp), {
      mode: 0o644,
    });
    const key = newHostKey(`root@${opts.name}`);
    await writeFile(join(diskDir, "upper", HOST_KEY), key.privateKey, { mode: 0o600 });
    await writeFile(join(diskDir, "upper", `${HOST_KEY}.pub`), `${key.publicKey}\n`, { mode: 0o644 });
    await writeFile(
      join(etc, "ssh", "authorized_keys.d", "root"),
      `${opts.authorizedKeys.map((k) => k.trim()).join("\n")}\n`,
      { mode: 0o600 },
    );
    await writeFile(imageFile, `${JSON.stringify(img)}\n`, { mode: 0o644 });
    return key.publicKey;
  };

  /** Upper and work directories of the overlays holding `/bin/sh` (also for disks written before they existed). */
  const makeShellDirs = async (): Promise<void> => {
    for (const d of binDirs) {
      await mkdir(join(diskDir, "upper", d), { recursive: true, mode: 0o755 });
      await mkdir(join(diskDir, "work", d), { recursive: true, mode: 0o755 });
    }
  };

  /** Resets runtime configuration of the data ports after a power loss. */
  const flushPorts = async (): Promise<void> => {
    const links = JSON.parse((await exec("ip", ["-n", opts.netns, "-j", "link", "show"])).stdout) as IpLink[];
    const keep = new Set(["lo", "oob_net0", ...DATA_PORTS]);
    const lines: string[] = [];
    for (const l of links) if (!keep.has(l.ifname)) lines.push(`link del dev ${l.ifname}`);
    for (const p of DATA_PORTS) {
      const mac = opts.ports.find((x) => x.name === p)?.mac;
      lines.push(`link set dev ${p} down`, `addr flush dev ${p}`);
      lines.push(`link set dev ${p} mtu 1500${mac ? ` address ${mac}` : ""} up`);
    }
    await ipBatch(lines, ["-n", opts.netns], true);
    for (const family of ["-4", "-6"]) {
      const out = await exec("ip", ["-n", opts.netns, family, "-j", "route", "show", "table", "all"]);
      const del: string[] = [];
      for (const r of JSON.parse(out.stdout || "[]") as IpRoute[]) {
        if (r.table === "local" || r.dst === undefined) continue;
        if ((r.dev === "oob_net0" || r.dev === "lo") && r.protocol === "kernel") continue;
        const parts = ["route", "del"];
        if (r.type && r.type !== "unicast") parts.push(r.type);
        parts.push(r.dst);
        if (r.dev) parts.push("dev", r.dev);
        if (r.table && r.table !== "main") parts.push("table", r.table);
        del.push(parts.join(" "));
      }
      await ipBatch(del, [family, "-n", opts.netns], true);
    }
  };

  const killAll = (): void => {
    if (pid1 !== undefined) signalPid(pid1, "SIGKILL");
    for (const pid of nsPids()) {
      const info = procInfo(pid);
      // PID 1 of any pid namespace inside the DPU (the DPU's init) takes its whole namespace with it.
      if (info && info.nsPids.length > 1 && info.nsPids[info.nsPids.length - 1] === 1)
        signalPid(pid, "SIGKILL");
    }
  };

  const doStop = async (flush: boolean): Promise<void> => {
    const init = pid1;
    killAll();
    await waitFor(
      "the DPU's processes to end",
      () => {
        const left = nsPids();
        for (const pid of left) signalPid(pid, "SIGKILL");
        // A killed init lingers as a zombie (outside the namespace listing) until its parent reaps it.
        return left.length === 0 && (init === undefined || procInfo(init) === undefined);
      },
      15_000,
    );
    isRunning = false;
    pid1 = undefined;
    child = undefined;
    if (flush && netnsInode(opts.netns) !== undefined) await flushPorts();
  };

  const doStart = async (): Promise<void> => {
    if (abandoned) throw new Error(`${opts.name}: the lab is shutting down`);
    if (isRunning) return;
    if (!disk.image()) throw new Error(`${opts.name}: no operating system installed (blank disk)`);
    if (netnsInode(opts.netns) === undefined)
      throw new Error(`${opts.name}: network namespace ${opts.netns} is gone`);
    if (nsPids().length > 0) await doStop(false);
    await mkdir(opts.dir, { recursive: true });
    const script = join(opts.dir, "boot.sh");
    const bootShell = { shell, binary: shellBinary(shell), dirs: binDirs };
    await makeShellDirs();
    await writeFile(script, bootScript(diskDir, bootShell), { mode: 0o755 });
    const fd = openSync(consoleLog, "a", 0o600);
    try {
      child = spawn(
        "nsenter",
        [
          `--net=/run/netns/${opts.netns}`,
          "--",
          "unshare",
          "--uts",
          "--mount",
          "--pid",
          "--fork",
          "--mount-proc",
          "sh",
          script,
        ],
        { stdio: ["ignore", fd, fd], detached: true },
      );
    } finally {
      closeSync(fd);
    }
    child.unref();
    const me = child;
    let exited = false;
    let how = "init exited";
    me.once("exit", (code, signal) => {
      exited = true;
      how = `init exited (${signal ?? `status ${code}`})`;
    });
    me.once("error", (e) => {
      exited = true;
      how = `init could not start: ${e.message}`;
    });
    isRunning = true;
    try {
      await waitFor(
        "sshd",
        async () => {
          if (exited) throw new Error(`${opts.name}: boot failed: ${consoleTail() || how}`);
          if (pid1 === undefined && me.pid !== undefined) {
            try {
              const kids = readFileSync(`/proc/${me.pid}/task/${me.pid}/children`, "utf8").trim();
              if (kids) pid1 = Number(kids.split(/\s+/)[0]);
            } catch {
              // not forked yet
            }
          }
          return pid1 !== undefined && (await portOpen());
        },
        startTimeoutMs,
      );
    } catch (e) {
      await doStop(false);
      throw e;
    }
    if (opts.execAuditFile) await attachAudit(opts.execAuditFile);
  };

  /** Attaches strace to the sshd listener; resolves once it traces (so no later exec is missed). */
  const attachAudit = async (file: string): Promise<void> => {
    const listener = sshdListenerPid();
    if (listener === undefined) throw new Error(`${opts.name}: exec audit: no sshd listener to trace`);
    const tracer = spawn(
      "strace",
      [
        "-f",
        "--seccomp-bpf",
        "-qq",
        "-A",
        "-e",
        "trace=execve",
        "-s",
        "65535",
        "-o",
        file,
        "-p",
        String(listener),
      ],
      { stdio: ["ignore", "ignore", "pipe"], detached: true },
    );
    tracer.unref();
    let err = "";
    tracer.stderr?.setEncoding("utf8").on("data", (d: string) => {
      err += d;
    });
    let gone = false;
    tracer.once("exit", () => {
      gone = true;
    });
    tracer.once("error", (e) => {
      gone = true;
      err += e.message;
    });
    // Attached once the listener's status shows a tracer.
    await waitFor(
      "strace to attach",
      () => {
        if (gone) throw new Error(`${opts.name}: exec audit: strace failed: ${err.trim()}`);
        try {
          const st = readFileSync(`/proc/${listener}/status`, "utf8");
          return /^TracerPid:\s+[1-9]/m.test(st);
        } catch {
          return false;
        }
      },
      5_000,
    );
  };

  const dpu: NamespaceDpu = {
    name: opts.name,
    ports: opts.ports,
    netns: opts.netns,
    mgmtIp: opts.mgmtIp,
    installedImage: disk.image,
    hostKeyFingerprint: disk.fingerprint,
    initPid: () => pid1,
    sshdPid: () => sshdListenerPid(),
    shell,
    running: () => isRunning,
    install: disk.install,
    wipe: disk.wipe,
    start: () => serial(doStart),
    stop: () =>
      serial(async () => {
        if (!isRunning && nsPids().length === 0) return;
        await doStop(!abandoned);
      }),
    setSshDown: (down) =>
      serial(async () => {
        if (!isRunning || pid1 === undefined) throw new Error(`${opts.name}: not running`);
        const listener = sshdListenerPid();
        if (down) {
          if (listener === undefined) return;
          signalPid(listener, "SIGTERM");
          await waitFor("sshd to stop", () => procInfo(listener) === undefined, 5000);
          return;
        }
        if (listener !== undefined) return;
        await exec("nsenter", [
          "-t",
          String(pid1),
          "-m",
          "-u",
          "-n",
          "-p",
          "--",
          "/usr/sbin/sshd",
          "-f",
          SSHD_CONFIG,
          "-E",
          "/run/sshd.log",
        ]);
        await waitFor("sshd", portOpen, 5000);
      }),
    dropSshConnections: () =>
      serial(async () => {
        if (!isRunning) return;
        const listener = sshdListenerPid();
        for (const pid of nsPids()) {
          if (pid !== listener && procInfo(pid)?.comm === "sshd") signalPid(pid, "SIGKILL");
        }
      }),
    abandon: () => {
      abandoned = true;
      killAll();
    },
  };
  return dpu;
}
