import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { chmod, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { join } from "node:path";
import type { AttachedMedium, BootImage, DpuOsBackend, DpuPort, InstallExtras } from "../contracts";
import { bootScript } from "./boot-script";
import { createDiskCore } from "./disk-core";
import { exec, ipBatch, sleep } from "./exec";
import { appliedInstanceId, applyIdentity, identityLog, ROOT_KEYS_FILE } from "./identity/apply";
import { runBfCfg } from "./identity/bf-cfg";
import { addressOf, applyMgmtAddressing, mgmtAddressingOf } from "./identity/network";
import { findSeed } from "./identity/seed";
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
  /** DPU name (`dpu-0`); also the image's default hostname (a Day-0 seed may set another). */
  readonly name: string;
  /** Network namespace holding `oob_net0` (addressed), `p0` and `p1`. */
  readonly netns: string;
  /**
   * The image's default address of `oob_net0` (sshd listens here) until a Day-0 seed gives the DPU another one.
   */
  readonly mgmtIp: string;
  /** Prefix length of {@link mgmtIp} (default: the one the lab configured on `oob_net0`). */
  readonly mgmtPrefixLength?: number;
  /** Per-DPU state directory (disk, boot script, console log). Created if missing. */
  readonly dir: string;
  /** Ports in the order oob_net0, p0, p1 with their MACs. */
  readonly ports: readonly DpuPort[];
  /**
   * OpenSSH public key lines authorized for root: the image's baked-in default credentials (the lab's images
   * carry the lab operator's key, like a vendor image shipping a default password). A Day-0 seed the BMC
   * delivers (a `cidata` medium, or a BFB's bf.cfg) replaces them.
   */
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
  /** The management address sshd listens on now (the image's default, or a Day-0 seed's). */
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
  /** Where sshd listens now: the image's default until a seed moved the management address. */
  let currentIp = opts.mgmtIp;
  let prefixLength = opts.mgmtPrefixLength;
  const upperDir = join(diskDir, "upper");
  const disk = createDiskCore({
    name: opts.name,
    diskDir,
    imageFile,
    hostKeyPubFile: join(diskDir, "upper", `${HOST_KEY}.pub`),
    running: () => isRunning,
    writeDisk: (img, extras) => writeDisk(img, extras),
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
      const sock = connect({ host: currentIp, port: 22 });
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

  /** Writes the disk of `img` (then runs the bf.cfg a BFB carried); returns the host key's public half. */
  const writeDisk = async (img: BootImage, extras: InstallExtras): Promise<string> => {
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
    if (extras.bfCfg !== undefined) await runInstallConfig(extras.bfCfg);
    await writeFile(imageFile, `${JSON.stringify(img)}\n`, { mode: 0o644 });
    return (await readFile(join(diskDir, "upper", `${HOST_KEY}.pub`), "utf8")).trim();
  };

  /**
   * A BFB's bf.cfg, run by the installer against the new disk. What its hooks leave there is the DPU's
   * identity: /etc/hostname, root's `~/.ssh/authorized_keys` (which then replaces the image's default key),
   * the ed25519 host key, netplan files, or a NoCloud seed under /var/lib/cloud/seed (read at boot).
   */
  const runInstallConfig = async (bfCfg: string): Promise<void> => {
    const log = await runBfCfg(bfCfg, upperDir, opts.name);
    const lines = log.split("\n").filter((l) => l.startsWith("bf.cfg:"));
    const rootKeys = await readFile(join(upperDir, "root", ".ssh", "authorized_keys"), "utf8").catch(
      () => undefined,
    );
    if (rootKeys !== undefined && rootKeys.trim() !== "") {
      await writeFile(join(upperDir, ROOT_KEYS_FILE), rootKeys, { mode: 0o600 });
      lines.push("bf.cfg: root's authorized_keys replace the image's default key");
    }
    // The host key the hooks left (the image's, or theirs): its public half, derived as sshd would.
    const pub = await exec("ssh-keygen", ["-y", "-f", join(upperDir, HOST_KEY)], { allowFailure: true });
    if (pub.code !== 0) throw new Error(`${opts.name}: BFB install: bf.cfg left an unusable ssh host key`);
    await writeFile(join(upperDir, `${HOST_KEY}.pub`), `${pub.stdout.trim()}\n`, { mode: 0o644 });
    await identityLog(upperDir, lines);
  };

  /**
   * What the DPU's first-boot services do: apply a Day-0 seed (a `cidata` medium the BMC attached, or a NoCloud
   * seed on the disk) once per instance id, then bring up the management port as the disk's netplan says (the
   * image's default address otherwise) and point sshd at it. The lightweight lab's shared OS keeps its addresses.
   */
  const firstBootServices = async (media: readonly AttachedMedium[]): Promise<void> => {
    if (opts.listenAddresses) return;
    const notes: string[] = [];
    const seed = await findSeed(upperDir, media, notes);
    let applied: string[] = [];
    if (seed && (seed.instanceId === undefined || seed.instanceId !== (await appliedInstanceId(upperDir)))) {
      applied = await applyIdentity(upperDir, seed);
    }
    const oob = opts.ports.find((p) => p.name === "oob_net0");
    prefixLength ??= await labPrefixLength();
    const addressing = await mgmtAddressingOf(
      upperDir,
      "oob_net0",
      oob?.mac ?? "",
      `${opts.mgmtIp}/${prefixLength}`,
    );
    await applyMgmtAddressing(opts.netns, "oob_net0", addressing);
    const listen = addressing.cidrs.map(addressOf);
    currentIp = listen.find((a) => a.includes(".")) ?? listen[0] ?? opts.mgmtIp;
    const etc = join(upperDir, "etc");
    await writeFile(join(etc, "ssh", "sshd_config.dpu"), sshdConfig(listen), { mode: 0o644 });
    if (applied.length > 0) {
      const host = (await readFile(join(etc, "hostname"), "utf8")).trim();
      await writeFile(
        join(etc, "hosts"),
        `127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n${currentIp}\t${host}\n`,
        { mode: 0o644 },
      );
    }
    await identityLog(upperDir, [...notes, ...applied, ...addressing.notes]);
    disk.refreshFingerprint();
  };

  /** The prefix length the lab gave the image's default address on `oob_net0`. */
  const labPrefixLength = async (): Promise<number> => {
    const out = await exec("ip", ["-n", opts.netns, "-j", "addr", "show", "dev", "oob_net0"]);
    const info = JSON.parse(out.stdout || "[]") as { addr_info?: { local?: string; prefixlen?: number }[] }[];
    const own = info[0]?.addr_info?.find((a) => a.local === opts.mgmtIp);
    if (own?.prefixlen === undefined)
      throw new Error(`${opts.name}: oob_net0 lacks the image's default address ${opts.mgmtIp}`);
    return own.prefixlen;
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

  const doStart = async (media: readonly AttachedMedium[]): Promise<void> => {
    if (abandoned) throw new Error(`${opts.name}: the lab is shutting down`);
    if (isRunning) return;
    if (!disk.image()) throw new Error(`${opts.name}: no operating system installed (blank disk)`);
    if (netnsInode(opts.netns) === undefined)
      throw new Error(`${opts.name}: network namespace ${opts.netns} is gone`);
    if (nsPids().length > 0) await doStop(false);
    await mkdir(opts.dir, { recursive: true });
    await firstBootServices(media);
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
    get mgmtIp() {
      return currentIp;
    },
    installedImage: disk.image,
    hostKeyFingerprint: disk.fingerprint,
    initPid: () => pid1,
    sshdPid: () => sshdListenerPid(),
    shell,
    running: () => isRunning,
    install: disk.install,
    wipe: disk.wipe,
    start: (media) => serial(() => doStart(media ?? [])),
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
