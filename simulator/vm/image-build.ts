import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";

/** Default cache of built DPU OS images: one directory per hash of the build inputs. */
export const VM_IMAGE_CACHE = "/var/cache/pulumi-dpu/vm-image";
/** ISO9660 label of the DPU OS image the VM backend boots. */
export const VM_IMAGE_LABEL = "DPUOS_VM_1_0";

/** A built (or cached) DPU OS image. */
export interface VmImage {
  /** Path of the bootable ISO. */
  readonly iso: string;
  readonly label: string;
  /** Hash of the build inputs (script, label, host apt sources): the cache key. */
  readonly inputsHash: string;
  /** manifest.txt of the build: sizes, kernel, package versions. */
  readonly manifest: string;
  /** True when this call built the image (false: cache hit). */
  readonly built: boolean;
  /** Build time in ms (0 on a cache hit). */
  readonly buildMs: number;
}

/** Options of {@link ensureVmImage}. */
export interface EnsureVmImageOptions {
  readonly label?: string;
  /** Cache directory. Default {@link VM_IMAGE_CACHE} (or `PULUMI_DPU_VM_IMAGE_CACHE`). */
  readonly cacheDir?: string;
  /** Build log lines (progress). */
  readonly onProgress?: (line: string) => void;
  /** Build timeout in ms. Default 15 min. */
  readonly timeoutMs?: number;
}

/**
 * Path of build-image.sh: next to this module when it runs from the sources (`simulator/vm/`), else at the same
 * path in the package from the compiled module (`dist/simulator/vm/` → `simulator/vm/build-image.sh`, which
 * the package ships: see `files` in package.json).
 */
export function buildScriptPath(): string {
  const candidates = [
    join(__dirname, "build-image.sh"),
    resolve(__dirname, "..", "..", "..", "simulator", "vm", "build-image.sh"),
  ];
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`build-image.sh not found (looked in ${candidates.join(", ")})`);
  return found;
}

function aptSources(): string {
  const files: string[] = [];
  if (existsSync("/etc/apt/sources.list")) files.push("/etc/apt/sources.list");
  try {
    for (const f of readdirSync("/etc/apt/sources.list.d").sort()) {
      if (f.endsWith(".list") || f.endsWith(".sources")) files.push(join("/etc/apt/sources.list.d", f));
    }
  } catch {
    // no sources.list.d
  }
  return files.map((f) => `${f}\n${readFileSync(f, "utf8")}`).join("\n");
}

/** Hash of everything the image is built from (the package versions follow from the apt sources). */
export function vmImageInputsHash(label = VM_IMAGE_LABEL): string {
  return createHash("sha256")
    .update(readFileSync(buildScriptPath()))
    .update(`\0${label}\0`)
    .update(aptSources())
    .digest("hex")
    .slice(0, 16);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function acquireLock(lock: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await mkdir(lock);
      await writeFile(join(lock, "pid"), `${process.pid}\n`);
      return;
    } catch {
      let owner = Number.NaN;
      try {
        owner = Number(readFileSync(join(lock, "pid"), "utf8").trim());
      } catch {
        // being created
      }
      if (Number.isInteger(owner) && !pidAlive(owner)) {
        await rm(lock, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for the image build lock ${lock}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

/**
 * Returns the DPU OS ISO for the VM backend, building it with build-image.sh when the cache has no image for
 * the current build inputs. Concurrent callers (other test files, other labs) share one build via a lock.
 */
export async function ensureVmImage(opts: EnsureVmImageOptions = {}): Promise<VmImage> {
  const label = opts.label ?? VM_IMAGE_LABEL;
  const cache = opts.cacheDir ?? process.env.PULUMI_DPU_VM_IMAGE_CACHE ?? VM_IMAGE_CACHE;
  const hash = vmImageInputsHash(label);
  const dir = join(cache, hash);
  const iso = join(dir, "dpu-os.iso");
  const manifestFile = join(dir, "manifest.txt");
  const done = async (built: boolean, buildMs: number): Promise<VmImage> => ({
    iso,
    label,
    inputsHash: hash,
    manifest: await readFile(manifestFile, "utf8"),
    built,
    buildMs,
  });
  if (existsSync(iso) && existsSync(manifestFile)) return done(false, 0);
  await mkdir(cache, { recursive: true, mode: 0o755 });
  const lock = join(cache, `${hash}.lock`);
  const timeoutMs = opts.timeoutMs ?? 15 * 60_000;
  await acquireLock(lock, timeoutMs);
  try {
    if (existsSync(iso) && existsSync(manifestFile)) return done(false, 0);
    await mkdir(dir, { recursive: true });
    const t0 = Date.now();
    const log: string[] = [];
    const code = await new Promise<number>((res, rej) => {
      const child = spawn("bash", [buildScriptPath(), dir, label], {
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, DPU_KEEP_STAGE1: "" },
      });
      const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
      const onData = (b: Buffer): void => {
        for (const line of b.toString("utf8").split("\n")) {
          if (!line.trim()) continue;
          log.push(line);
          if (log.length > 200) log.shift();
          if (line.startsWith("==")) opts.onProgress?.(line);
        }
      };
      child.stdout.on("data", onData);
      child.stderr.on("data", onData);
      child.on("error", rej);
      child.on("close", (c, sig) => {
        clearTimeout(timer);
        res(c ?? (sig ? 128 : 1));
      });
    });
    if (code !== 0 || !existsSync(iso)) {
      throw new Error(`DPU OS image build failed (exit ${code}): ${log.slice(-15).join(" | ")}`);
    }
    await writeFile(join(dir, "build.log"), `${log.join("\n")}\n`);
    await stat(iso);
    return done(true, Date.now() - t0);
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}
