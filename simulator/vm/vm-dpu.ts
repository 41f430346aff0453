import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from "node:fs";
import { copyFile, mkdir, readFile, rm, truncate, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { join } from "node:path";
import type { AttachedMedium, BootImage, DpuOsBackend, DpuPort } from "../contracts";
import { createDiskCore } from "../dpu/disk-core";
import { exec, ipBatch, sleep } from "../dpu/exec";
import { fingerprintOf, newHostKey } from "../dpu/os-files";
import { inspectImage } from "../images/inspect";
import { downloadFile } from "./fetch-iso";
import { OVMF_VARS, qemuArgs, type VmFirmware } from "./qemu-args";
import { connectQmp, type QmpClient } from "./qmp";

/** Options of {@link createVmDpu}. The management bridge and the ToR namespace must already exist. */
export interface VmDpuOptions {
  /** DPU name (`dpu-0`); also the image's default hostname (a `cidata` seed may set another). */
  readonly name: string;
  /** Per-DPU state directory (installed ISO, state disk, console log, sockets). Created if missing. */
  readonly dir: string;
  /**
   * The image's default address of `oob_net0` (sshd listens here until a `cidata` seed gives another) and the
   * prefix length of the management network.
   */
  readonly mgmtIp: string;
  readonly mgmtPrefixLength: number;
  /** Management bridge in the root namespace the management tap joins. */
  readonly mgmtBridge: string;
  /** Name of the management tap in the root namespace. */
  readonly mgmtTap: string;
  /** Namespace and bridge of the top-of-rack switch, and the switch-side names of p0 and p1. */
  readonly torNetns: string;
  readonly torBridge: string;
  readonly torLinks: readonly [string, string];
  /** Ports oob_net0, p0, p1 with their MACs (the VM's NICs use them). */
  readonly ports: readonly DpuPort[];
  /**
   * OpenSSH public key lines authorized for root by the image's defaults (the lab operator's key, like a vendor
   * image's default credentials); a DPU seeded through a `cidata` medium gets the seed's keys only.
   */
  readonly authorizedKeys: readonly string[];
  readonly nameservers?: readonly string[];
  /** CA the backend trusts when it fetches an HTTPS image at install. */
  readonly caFile?: string;
  /** Firmware: `bios` (SeaBIOS, default) or `uefi` (OVMF). */
  readonly firmware?: VmFirmware;
  /** Accelerator: `tcg` (default) or `kvm` (only when /dev/kvm works). */
  readonly accel?: "tcg" | "kvm";
  /** Guest memory in MiB (default 1024) and vCPUs (default 2). */
  readonly memoryMb?: number;
  readonly cpus?: number;
  /** Size of the state disk in MiB (default 2048, sparse). */
  readonly stateDiskMb?: number;
  /** How long `start` waits for the guest's sshd, in ms. Default 240 s. */
  readonly startTimeoutMs?: number;
}

/** Timing of the last boot, ms after QEMU started (undefined: not reached). */
export interface VmBootTiming {
  readonly loaderMs?: number;
  readonly initramfsMs?: number;
  readonly osRunningMs?: number;
  readonly sshMs?: number;
}

/** Where the guest is in its boot, as its serial console shows it. */
export type VmBootStage = "off" | "firmware" | "loader" | "os-booting" | "os-running";

/** A {@link DpuOsBackend} backed by a QEMU virtual machine, with lab-facing extras. */
export interface VmDpu extends DpuOsBackend {
  readonly mgmtIp: string;
  hostKeyFingerprint(): string | undefined;
  /** Host pid of the QEMU process while it runs. */
  initPid(): number | undefined;
  /** Boot stage from the serial console. */
  bootStage(): VmBootStage;
  lastBootTiming(): VmBootTiming;
  /** Path of the serial console log (all boots, appended). */
  readonly consoleLog: string;
  /** Kills QEMU now (lab teardown) and makes every later `start` fail. */
  abandon(): void;
}

const MARKERS = {
  loader: "DPU-BOOT: loader",
  initramfs: "DPU-BOOT: initramfs",
  running: "DPU-BOOT: os-running",
} as const;
const FAILURES = [
  "No bootable device",
  "DPU-BOOT: failed",
  "Kernel panic",
  "Boot Failed",
  "No bootable option",
] as const;

/** Reads an SSH banner from host:22 (true when the guest's sshd answers). */
function sshBanner(host: string, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host, port: 22 });
    let buf = "";
    const done = (ok: boolean): void => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.on("data", (b: Buffer) => {
      buf += b.toString("latin1");
      if (buf.includes("\n")) done(buf.startsWith("SSH-2.0-"));
    });
    sock.once("error", () => done(false));
    sock.once("close", () => done(false));
  });
}

/**
 * Creates the operating-system backend of one DPU that is a QEMU virtual machine.
 *
 * Installed means: the ISO the BMC measured sits in `<dir>/disk/image.iso` and stays the VM's CD-ROM (the
 * boot device); `<dir>/disk/state.raw` is an ext4 state disk the guest keeps its writable overlay on (so /etc,
 * /var, workloads and container images survive a reboot), recreated empty at every install, with a fresh SSH host key.
 * The media the BMC attached besides the boot source are the VM's further CDs: the guest takes its Day-0
 * identity from a NoCloud `cidata` one (hostname, management address, root's keys, host key; applied once per
 * instance-id). fw_cfg `opt/pulumi-dpu/seed` carries the installer's image record and, only for a DPU that got
 * no `cidata` medium since its install, the image's default identity (DPU name, lab address, lab key, the
 * install's host key: the shared, reproducible image cannot carry the lab's key; the guest ignores them once a
 * seed was applied). Power maps to QEMU: `start` launches the VM, `stop` is QMP `quit` (power pulled: no guest
 * shutdown).
 */
export function createVmDpu(opts: VmDpuOptions): VmDpu {
  const diskDir = join(opts.dir, "disk");
  const imageFile = join(diskDir, "image.json");
  const isoFile = join(diskDir, "image.iso");
  const stateDisk = join(diskDir, "state.raw");
  const hostKeyFile = join(diskDir, "ssh_host_ed25519_key");
  /** Present once the DPU booted with a `cidata` medium since its install: fw_cfg then carries no identity. */
  const seededFile = join(diskDir, "seeded");
  const runDir = join(opts.dir, "run");
  const consoleLog = join(opts.dir, "console.log");
  const startTimeoutMs = opts.startTimeoutMs ?? 240_000;
  const firmware = opts.firmware ?? "bios";
  const slotTag = opts.mgmtTap.replace(/m\d+$/, "");
  const tempTaps = opts.torLinks.map((_, i) => `${slotTag}t${opts.name.replace(/\D/g, "")}${"ab"[i]}`);
  let isRunning = false;
  let abandoned = false;
  let child: ChildProcess | undefined;
  let qmp: QmpClient | undefined;
  let consoleStart = 0;
  let bootStartedAt = 0;
  let timing: Record<string, number> = {};
  const disk = createDiskCore({
    name: opts.name,
    diskDir,
    imageFile,
    hostKeyPubFile: `${hostKeyFile}.pub`,
    running: () => isRunning,
    writeDisk: (img) => writeDisk(img),
  });
  const serial = disk.serial;

  /** Serial console output of the current boot. */
  const consoleText = (): string => {
    let fd: number | undefined;
    try {
      const size = statSync(consoleLog).size;
      if (size <= consoleStart) return "";
      const len = Math.min(size - consoleStart, 4 * 1024 * 1024);
      const buf = Buffer.alloc(len);
      fd = openSync(consoleLog, "r");
      readSync(fd, buf, 0, len, size - len);
      return buf.toString("utf8");
    } catch {
      return "";
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  };

  const consoleTail = (): string =>
    consoleText()
      // biome-ignore lint/suspicious/noControlCharactersInRegex: terminal escapes on the serial console
      .replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "")
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter(Boolean)
      .slice(-6)
      .join(" | ");

  const stage = (): VmBootStage => {
    if (!isRunning) return "off";
    const text = consoleText();
    const now = Date.now() - bootStartedAt;
    const mark = (key: string, marker: string): boolean => {
      if (!text.includes(marker)) return false;
      timing[key] ??= now;
      return true;
    };
    if (mark("osRunningMs", MARKERS.running)) return "os-running";
    if (mark("initramfsMs", MARKERS.initramfs)) return "os-booting";
    if (mark("loaderMs", MARKERS.loader)) return "loader";
    return "firmware";
  };

  /** The fw_cfg blob: the image record, and the image's default identity for a DPU not seeded since its install. */
  const seedText = (img: BootImage, withDefaults: boolean): string => {
    const pub = readFileSync(`${hostKeyFile}.pub`, "utf8").trim();
    const key = readFileSync(hostKeyFile);
    const one = (v: string): string => v.replace(/[\r\n]/g, " ");
    const defaults = [
      `hostname=${one(opts.name)}`,
      `mgmt_address=${opts.mgmtIp}/${opts.mgmtPrefixLength}`,
      ...(opts.nameservers ?? []).map((n) => `nameserver=${one(n)}`),
      ...opts.authorizedKeys.map((k) => `authorized_key=${one(k.trim())}`),
      `host_key_ed25519_b64=${key.toString("base64")}`,
      `host_key_ed25519_pub=${one(pub)}`,
    ];
    const lines = [
      ...(withDefaults ? defaults : []),
      `image_label=${one(img.label)}`,
      `image_sha256=${one(img.sha256)}`,
      `image_kind=${one(img.kind)}`,
      `image_url=${one(img.url)}`,
    ];
    return `${lines.join("\n")}\n`;
  };

  const childAlive = (): boolean =>
    child !== undefined && child.exitCode === null && child.signalCode === null;

  const waitExit = async (timeoutMs: number): Promise<boolean> => {
    const deadline = Date.now() + timeoutMs;
    while (childAlive()) {
      if (Date.now() > deadline) return false;
      await sleep(20);
    }
    return true;
  };

  const doStop = async (): Promise<void> => {
    if (childAlive()) {
      try {
        await Promise.race([qmp?.execute("quit"), sleep(3000)]);
      } catch {
        // the monitor closes as QEMU exits
      }
      if (!(await waitExit(5000))) {
        child?.kill("SIGKILL");
        await waitExit(10_000);
      }
    }
    qmp?.close();
    qmp = undefined;
    child = undefined;
    isRunning = false;
    await removeMedia();
    // Taps are QEMU's (not persistent): they vanished with it. Remove leftovers of a crashed run by name.
    await ipBatch([`link del dev ${opts.mgmtTap}`, ...tempTaps.map((t) => `link del dev ${t}`)], [], true);
    await ipBatch(
      opts.torLinks.map((t) => `link del dev ${t}`),
      ["-n", opts.torNetns],
      true,
    );
  };

  const wireTaps = async (): Promise<void> => {
    await ipBatch([
      `link set dev ${opts.mgmtTap} master ${opts.mgmtBridge} up`,
      ...tempTaps.map((t) => `link set dev ${t} netns ${opts.torNetns}`),
    ]);
    await ipBatch(
      tempTaps.map((t, i) => `link set dev ${t} name ${opts.torLinks[i]} master ${opts.torBridge} up`),
      ["-n", opts.torNetns],
    );
  };

  /** Management addresses the guest announced on its console this boot (`DPU-BOOT: mgmt-address a/p`). */
  const announcedAddresses = (): string[] =>
    [...consoleText().matchAll(/DPU-BOOT: mgmt-address ([0-9A-Fa-f:.]+)\/\d+/g)].map((m) => m[1]!);
  /** Where sshd listens: the address the guest announced (a seeded one), else the image's default. */
  const sshAddress = (): string => announcedAddresses()[0] ?? opts.mgmtIp;

  /**
   * The fingerprint of the ed25519 host key the guest printed on its console this boot (`DPU-BOOT: host-key`, as
   * cloud-init prints its keys to the console): a seeded key where the `cidata` medium carried one. Before any
   * boot, the key of the install.
   */
  const hostKeyFingerprint = (): string | undefined => {
    const shown = [...consoleText().matchAll(/DPU-BOOT: host-key (ssh-ed25519 [A-Za-z0-9+/=]+)/g)].at(
      -1,
    )?.[1];
    return shown ? fingerprintOf(shown) : disk.fingerprint();
  };

  /** Removes the media files of the last boot (a seed may hold secrets: they live only while QEMU runs). */
  const removeMedia = async (): Promise<void> => {
    for (let i = 0; existsSync(join(runDir, `medium-${i}.iso`)); i++)
      await rm(join(runDir, `medium-${i}.iso`), { force: true });
  };

  /** Writes each attached medium to its own file (one CD each); true when one is a NoCloud `cidata` volume. */
  const writeMedia = async (
    media: readonly AttachedMedium[],
  ): Promise<{ files: string[]; cidata: boolean }> => {
    const files: string[] = [];
    let cidata = false;
    for (const [i, m] of media.entries()) {
      const file = join(runDir, `medium-${i}.iso`);
      await writeFile(file, m.bytes, { mode: 0o600 });
      files.push(file);
      try {
        const id = inspectImage(m.bytes);
        if (id.kind === "iso" && (id.label === "cidata" || id.label === "CIDATA")) cidata = true;
      } catch {
        // not an image the lab recognises: still attached, the guest decides
      }
    }
    return { files, cidata };
  };

  const doStart = async (media: readonly AttachedMedium[] = []): Promise<void> => {
    if (abandoned) throw new Error(`${opts.name}: the lab is shutting down`);
    if (isRunning) return;
    const image = disk.image();
    if (!image || !existsSync(isoFile))
      throw new Error(`${opts.name}: no operating system installed (blank disk)`);
    await doStop();
    await mkdir(runDir, { recursive: true, mode: 0o700 });
    const attached = await writeMedia(media);
    if (attached.cidata) await writeFile(seededFile, "");
    const seeded = existsSync(seededFile);
    const seedFile = join(runDir, "seed.txt");
    await writeFile(seedFile, seedText(image, !seeded), { mode: 0o600 });
    const qmpSocket = join(runDir, "qmp.sock");
    const controlSocket = join(runDir, "ctl.sock");
    await rm(qmpSocket, { force: true });
    await rm(controlSocket, { force: true });
    let ovmfVars: string | undefined;
    if (firmware === "uefi") {
      ovmfVars = join(diskDir, "OVMF_VARS.fd");
      if (!existsSync(ovmfVars)) await copyFile(OVMF_VARS, ovmfVars);
    }
    const taps = { oob_net0: opts.mgmtTap, p0: tempTaps[0]!, p1: tempTaps[1]! };
    const args = qemuArgs({
      name: opts.name,
      accel: opts.accel ?? "tcg",
      firmware,
      memoryMb: opts.memoryMb ?? 1024,
      cpus: opts.cpus ?? 2,
      iso: isoFile,
      stateDisk,
      seedFile,
      media: attached.files,
      consoleFile: consoleLog,
      qmpSocket,
      controlSocket,
      ovmfVars,
      taps,
      ports: opts.ports,
    });
    try {
      consoleStart = existsSync(consoleLog) ? statSync(consoleLog).size : 0;
    } catch {
      consoleStart = 0;
    }
    const errFile = join(runDir, "qemu.stderr");
    const fd = openSync(errFile, "w", 0o600);
    try {
      child = spawn("qemu-system-x86_64", args, { stdio: ["ignore", fd, fd], detached: true });
    } finally {
      closeSync(fd);
    }
    child.unref();
    child.once("error", () => {});
    isRunning = true;
    bootStartedAt = Date.now();
    timing = {};
    const qemuError = (): string => {
      try {
        return readFileSync(errFile, "utf8").trim().split("\n").slice(-3).join(" | ");
      } catch {
        return "";
      }
    };
    try {
      qmp = await connectQmp(qmpSocket, 20_000).catch((e: unknown) => {
        throw new Error(`QEMU did not start: ${qemuError() || (e instanceof Error ? e.message : String(e))}`);
      });
      await wireTaps();
      await qmp.execute("cont");
      const deadline = Date.now() + startTimeoutMs;
      for (;;) {
        if (!childAlive()) throw new Error(`QEMU exited: ${qemuError() || consoleTail()}`);
        const st = stage();
        const text = consoleText();
        const failed = FAILURES.find((f) => text.includes(f));
        if (failed) throw new Error(`boot failed (${failed}): ${consoleTail()}`);
        if (st === "os-running" || st === "os-booting") {
          // Where the guest said it listens (a seeded address), else the lab address; a DHCP-only seed
          // announces none: the OS running is then the readiness.
          const announced = announcedAddresses();
          const targets = announced.length > 0 ? announced : [opts.mgmtIp];
          const seededDhcp = seeded && announced.length === 0 && st === "os-running";
          const answers = await Promise.all(targets.map((a) => sshBanner(a, 1500)));
          if (seededDhcp || answers.some(Boolean)) {
            timing.sshMs = Date.now() - bootStartedAt;
            stage();
            return;
          }
        }
        if (Date.now() > deadline) {
          throw new Error(`timed out after ${startTimeoutMs} ms waiting for sshd (${st}): ${consoleTail()}`);
        }
        await sleep(250);
      }
    } catch (e) {
      await doStop();
      throw new Error(`${opts.name}: ${e instanceof Error ? e.message : String(e)}`);
    }
  };

  /** Writes the disk of `img`; returns the new host key's public half. */
  const writeDisk = async (img: BootImage): Promise<string> => {
    await mkdir(diskDir, { recursive: true, mode: 0o700 });
    let have: BootImage | undefined;
    try {
      have = JSON.parse(await readFile(imageFile, "utf8")) as BootImage;
    } catch {
      have = undefined;
    }
    await rm(imageFile, { force: true });
    if (!(have?.sha256 === img.sha256 && existsSync(isoFile))) {
      const ca = opts.caFile ? readFileSync(opts.caFile, "utf8") : undefined;
      await rm(isoFile, { force: true });
      await downloadFile(img.url, isoFile, { ca, expectSha256: img.sha256 });
    }
    await rm(stateDisk, { force: true });
    await rm(seededFile, { force: true });
    await rm(join(diskDir, "OVMF_VARS.fd"), { force: true });
    await writeFile(stateDisk, "");
    await truncate(stateDisk, (opts.stateDiskMb ?? 2048) * 1024 * 1024);
    await exec("mkfs.ext4", ["-q", "-F", "-L", "DPUSTATE", "-E", "nodiscard", stateDisk]);
    const key = newHostKey(`root@${opts.name}`);
    await writeFile(hostKeyFile, key.privateKey, { mode: 0o600 });
    await writeFile(`${hostKeyFile}.pub`, `${key.publicKey}\n`, { mode: 0o644 });
    await writeFile(imageFile, `${JSON.stringify(img)}\n`, { mode: 0o644 });
    return key.publicKey;
  };

  /** Sends one command to the guest's control service and waits for its answer. */
  const control = (cmd: string, timeoutMs = 15_000): Promise<void> =>
    new Promise((resolve, reject) => {
      const sock = connect(join(runDir, "ctl.sock"));
      let buf = "";
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new Error(`${opts.name}: no answer to control command ${cmd}`));
      }, timeoutMs);
      sock.once("connect", () => sock.write(`${cmd}\n`));
      sock.on("data", (b: Buffer) => {
        buf += b.toString("utf8");
        if (buf.includes(`done ${cmd}`)) {
          clearTimeout(timer);
          sock.destroy();
          resolve();
        }
      });
      sock.once("error", (e) => {
        clearTimeout(timer);
        reject(new Error(`${opts.name}: control channel: ${e.message}`));
      });
    });

  const waitFor = async (what: string, cond: () => Promise<boolean>, timeoutMs: number): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    while (!(await cond())) {
      if (Date.now() > deadline) throw new Error(`${opts.name}: timed out waiting for ${what}`);
      await sleep(200);
    }
  };

  return {
    name: opts.name,
    ports: opts.ports,
    mgmtIp: opts.mgmtIp,
    consoleLog,
    installedImage: disk.image,
    hostKeyFingerprint,
    initPid: () => (childAlive() ? child?.pid : undefined),
    running: () => isRunning,
    bootStage: stage,
    lastBootTiming: () => ({ ...timing }),
    install: disk.install,
    wipe: disk.wipe,
    start: (media) => serial(() => doStart(media)),
    stop: () => serial(doStop),
    setSshDown: (down) =>
      serial(async () => {
        if (!isRunning) throw new Error(`${opts.name}: not running`);
        await control(down ? "ssh-down" : "ssh-up");
        await waitFor(
          down ? "sshd to stop" : "sshd",
          async () => (await sshBanner(sshAddress(), 1000)) !== down,
          15_000,
        );
      }),
    dropSshConnections: () =>
      serial(async () => {
        if (!isRunning) return;
        await control("ssh-drop");
      }),
    abandon: () => {
      abandoned = true;
      if (childAlive()) child?.kill("SIGKILL");
    },
  };
}
