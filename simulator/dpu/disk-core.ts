import { readFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import type { BootImage, DpuOsBackend, InstallExtras } from "../contracts";
import { fingerprintOf } from "./os-files";

/** Where a backend keeps its disk, and how it writes one. */
export interface DiskCoreOptions {
  /** DPU name, for errors. */
  readonly name: string;
  /** The disk directory (removed by `wipe`). */
  readonly diskDir: string;
  /** JSON file naming the installed image (written by `writeDisk`, read at creation). */
  readonly imageFile: string;
  /** The installed host key's public half (read at creation). */
  readonly hostKeyPubFile: string;
  /** Whether the OS runs now (install and wipe refuse a running OS). */
  readonly running: () => boolean;
  /**
   * Writes `img` to the disk, with a new host key (or the one a BFB's bf.cfg installs); returns that key's
   * public half.
   */
  readonly writeDisk: (img: BootImage, extras: InstallExtras) => Promise<string>;
}

/**
 * The disk lifecycle every DPU backend (namespace, VM) shares: the installed image and host key as found on
 * disk, one operation at a time in call order (a BMC may power off while a boot is under way), and
 * `install`/`wipe` refused while the OS runs.
 */
export interface DiskCore {
  image(): BootImage | undefined;
  fingerprint(): string | undefined;
  /** Re-reads the host key's fingerprint (a Day-0 seed applied at boot may have installed another key). */
  refreshFingerprint(): void;
  /** Runs `fn` after every operation queued before it (whatever their outcome). */
  serial<T>(fn: () => Promise<T>): Promise<T>;
  readonly install: DpuOsBackend["install"];
  readonly wipe: DpuOsBackend["wipe"];
}

/** The {@link DiskCore} of one backend's disk. */
export function createDiskCore(opts: DiskCoreOptions): DiskCore {
  let image: BootImage | undefined;
  let fingerprint: string | undefined;
  let queue: Promise<unknown> = Promise.resolve();
  try {
    image = JSON.parse(readFileSync(opts.imageFile, "utf8")) as BootImage;
    fingerprint = fingerprintOf(readFileSync(opts.hostKeyPubFile, "utf8"));
  } catch {
    image = undefined;
  }
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const p = queue.then(fn, fn);
    queue = p.catch(() => undefined);
    return p;
  };
  return {
    image: () => image,
    fingerprint: () => fingerprint,
    refreshFingerprint: () => {
      if (image === undefined) return;
      try {
        fingerprint = fingerprintOf(readFileSync(opts.hostKeyPubFile, "utf8"));
      } catch {
        // keep the last known one
      }
    },
    serial,
    install: (img, extras) =>
      serial(async () => {
        if (opts.running()) throw new Error(`${opts.name}: cannot install while running`);
        const publicKey = await opts.writeDisk(img, extras ?? {});
        image = img;
        fingerprint = fingerprintOf(publicKey);
      }),
    wipe: () =>
      serial(async () => {
        if (opts.running()) throw new Error(`${opts.name}: cannot wipe while running`);
        await rm(opts.diskDir, { recursive: true, force: true });
        image = undefined;
        fingerprint = undefined;
      }),
  };
}
