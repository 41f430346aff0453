import { execFile } from "node:child_process";
import { lstat, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { inspectImage } from "../../images/inspect";

const run = promisify(execFile);

/** The volume label and the requested root files of an ISO9660 image. */
export interface IsoContents {
  readonly label: string;
  /** File name → bytes, for the requested names that exist. */
  readonly files: ReadonlyMap<string, Buffer>;
}

/**
 * Reads an ISO9660 image as a guest mounting it would: the volume label from the Primary Volume Descriptor, and
 * the named files of the root directory through `xorriso -osirrox` (Rock Ridge / Joliet names, so `meta-data`
 * keeps its name). Throws when the bytes are not ISO9660.
 */
export async function readIsoFiles(bytes: Buffer, names: readonly string[]): Promise<IsoContents> {
  const id = inspectImage(bytes);
  if (id.kind !== "iso") throw new Error(`not an ISO9660 volume (${id.kind})`);
  const work = await mkdtemp(join(tmpdir(), "dpu-medium-"));
  try {
    const img = join(work, "medium.iso");
    await writeFile(img, bytes, { mode: 0o600 });
    const root = join(work, "root");
    await run("xorriso", ["-osirrox", "on", "-indev", img, "-extract", "/", root], { timeout: 30_000 });
    const files = new Map<string, Buffer>();
    for (const name of names) {
      try {
        // Regular files only: a Rock Ridge symlink named `meta-data` must not read the lab host's files.
        if ((await lstat(join(root, name))).isFile()) files.set(name, await readFile(join(root, name)));
      } catch {
        // absent on the medium
      }
    }
    return { label: id.label, files };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
