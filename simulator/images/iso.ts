import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, normalize } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** Options of {@link makeIso}. */
export interface MakeIsoOptions {
  /** ISO9660 volume identifier (at most 32 characters: A–Z, 0–9 and `_`). */
  readonly label: string;
  /** Extra files by absolute path inside the image (`/boot/x.cfg`). */
  readonly files?: Readonly<Record<string, string | Buffer>>;
}

const LABEL_RE = /^[A-Z0-9_]{1,32}$/;

/** True when an `execFile` failure is a crash (killed by a signal, or xorriso's own signal handler). */
function crashed(err: unknown): boolean {
  const { signal, stderr } = err as { signal?: unknown; stderr?: unknown };
  if (typeof signal === "string" && signal !== "") return true;
  return typeof stderr === "string" && /UNIX-SIGNAL:/.test(stderr);
}

/**
 * Builds a real ISO9660 image (Rock Ridge + Joliet, via `xorriso -as mkisofs`) with volume identifier `label`.
 * The image always holds `/DPU/RELEASE`, key=value lines naming the image (`LABEL`, `NAME`, `VERSION_ID`).
 */
export async function makeIso(opts: MakeIsoOptions): Promise<Buffer> {
  if (!LABEL_RE.test(opts.label)) {
    throw new Error(`makeIso: label ${JSON.stringify(opts.label)} must match ${LABEL_RE}`);
  }
  const work = await mkdtemp(join(tmpdir(), "dpu-iso-"));
  try {
    const root = join(work, "root");
    const version = opts.label.replace(/^[A-Z]+_?/, "").replace(/_/g, ".") || "0";
    const files: Record<string, string | Buffer> = {
      "/DPU/RELEASE": `LABEL=${opts.label}\nNAME=dpu-os\nVERSION_ID=${version}\n`,
      ...(opts.files ?? {}),
    };
    for (const [path, content] of Object.entries(files)) {
      const rel = normalize(path).replace(/^\/+/, "");
      if (rel === "" || rel.startsWith("..")) throw new Error(`makeIso: bad file path ${path}`);
      const target = join(root, rel);
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, content);
    }
    const out = join(work, "image.iso");
    // NOTE: xorriso 1.5.4 was seen to die with SIGSEGV under heavy load; a fresh attempt succeeds. xorriso
    // catches the signal itself and exits with a status after printing `UNIX-SIGNAL: SIGSEGV` (the process
    // is not reported as killed by a signal), so both shapes of a crash are retried (twice) while a real
    // error (a plain exit status) is not.
    for (let attempt = 1; ; attempt++) {
      try {
        await rm(out, { force: true });
        await run("xorriso", ["-as", "mkisofs", "-quiet", "-R", "-J", "-V", opts.label, "-o", out, root], {
          timeout: 60_000,
        });
        break;
      } catch (err) {
        if (attempt >= 3 || !crashed(err)) throw err;
      }
    }
    return await readFile(out);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
