import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DpuError } from "../../errors";
import { redact } from "../../log";
import type { NoCloudSeed } from "./nocloud";

/** The volume label cloud-init's NoCloud datasource looks for (`cidata` or `CIDATA`). */
export const CIDATA_LABEL = "cidata";

/**
 * Fixed time stamp of every file and of the volume (2000-01-01T00:00:00Z): the same seed gives the same ISO
 * bytes, so its digest identifies its content.
 */
export const CIDATA_EPOCH = 946_684_800;

/** A built NoCloud seed volume. */
export interface CidataImage {
  readonly bytes: Buffer;
  /** sha256 of `bytes` (lower-case hex). */
  readonly sha256: string;
}

/** The seed could not be built (xorriso missing or failing). */
export class SeedBuildError extends DpuError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("DPU_SEED_BUILD", message, options);
    this.name = "SeedBuildError";
  }
}

function run(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { env, maxBuffer: 1 << 20 }, (err, _stdout, stderr) => {
      if (err) reject(Object.assign(err, { stderr: String(stderr) }));
      else resolve();
    });
  });
}

/**
 * Builds the NoCloud seed volume: ISO 9660 labelled `cidata` with Rock Ridge and Joliet names (so `meta-data`,
 * `user-data` and `network-config` keep their names), as `cloud-localds` / `genisoimage -V cidata -r -J` make it.
 * Uses xorriso (`-as mkisofs`), with every time stamp fixed (`SOURCE_DATE_EPOCH`), so the output is
 * reproducible. The documents exist on disk only in a private temporary directory, removed afterwards.
 */
export async function buildCidata(seed: NoCloudSeed, opts: { xorriso?: string } = {}): Promise<CidataImage> {
  const xorriso = opts.xorriso ?? "xorriso";
  const dir = await mkdtemp(join(tmpdir(), "pulumi-dpu-cidata-"));
  try {
    const root = join(dir, "root");
    await mkdir(root, { mode: 0o700 });
    const files: [string, string][] = [
      ["meta-data", seed.metaData],
      ["user-data", seed.userData],
      ["network-config", seed.networkConfig],
    ];
    for (const [name, text] of files) {
      const p = join(root, name);
      await writeFile(p, text, { mode: 0o600 });
      await utimes(p, CIDATA_EPOCH, CIDATA_EPOCH);
    }
    await utimes(root, CIDATA_EPOCH, CIDATA_EPOCH);
    const out = join(dir, "cidata.iso");
    const env = { ...process.env, SOURCE_DATE_EPOCH: String(CIDATA_EPOCH) };
    try {
      // -r: Rock Ridge with rationalized owner (0) and read permissions, so the bytes do not depend on who built them.
      await run(
        xorriso,
        ["-as", "mkisofs", "-quiet", "-o", out, "-V", CIDATA_LABEL, "-r", "-J", "-graft-points", `/=${root}`],
        env,
      );
    } catch (err) {
      const e = err as NodeJS.ErrnoException & { stderr?: string };
      if (e.code === "ENOENT") {
        throw new SeedBuildError(
          `build the NoCloud seed volume: ${xorriso} is not installed; install xorriso (apt-get install xorriso)`,
          { cause: err },
        );
      }
      throw new SeedBuildError(
        `build the NoCloud seed volume: xorriso failed: ${redact((e.stderr ?? e.message).trim()).slice(0, 500)}`,
        { cause: err },
      );
    }
    const bytes = await readFile(out);
    return { bytes, sha256: createHash("sha256").update(bytes).digest("hex") };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
