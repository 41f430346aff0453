import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { request } from "undici";
import { consumeBody } from "../http/consume-body";
import { publicUrl } from "../log";
import type { FileData } from "../ssh/types";
import type { WorkloadArtifact } from "./input-schemas";

/**
 * An artifact made ready on the provider side: its digest, and where its bytes are (inline content in memory, a
 * local file, or a URL downloaded to a temporary file). Large files are never held in memory.
 */
export interface LoadedArtifact {
  readonly destination: string;
  readonly mode: string;
  readonly sha256: string;
  readonly size: number;
  /** Whether the artifact may replace a file this workload did not create (a backup is kept). */
  readonly overwrite: boolean;
  /** What to upload: inline bytes, or a local file streamed by the SFTP layer. */
  readonly data: FileData;
  /** Removes a temporary download (no-op for other sources). */
  dispose(): Promise<void>;
}

/** Lower-case hex sha256 of `data`. */
export function sha256Hex(data: Uint8Array | string): string {
  return createHash("sha256").update(data).digest("hex");
}

const MAX_URL_BYTES = 512 * 1024 * 1024;

/** `url` without its `user:password@` part nor token-like query values (for messages; see {@link publicUrl}). */
export function urlForMessages(url: string): string {
  return publicUrl(url);
}

/** A pass-through stream that hashes and counts what flows through it (and enforces a size limit). */
class Digest extends Transform {
  readonly hash = createHash("sha256");
  size = 0;
  constructor(private readonly limit: number = Number.POSITIVE_INFINITY) {
    super();
  }
  /** Counts and hashes `chunk`; throws past the size limit. */
  absorb(chunk: Buffer): void {
    this.size += chunk.length;
    if (this.size > this.limit) throw new Error(`more than ${this.limit} bytes`);
    this.hash.update(chunk);
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null, data?: Buffer) => void) {
    try {
      this.absorb(chunk);
    } catch (err) {
      cb(err as Error);
      return;
    }
    cb(null, chunk);
  }
}

/** sha256 and size of a local file, read as a stream. */
export async function hashFile(path: string): Promise<{ sha256: string; size: number }> {
  const d = new Digest();
  await pipeline(createReadStream(path, { highWaterMark: 256 * 1024 }), d, async (source) => {
    for await (const _ of source) {
      // drained: only the digest matters
    }
  });
  return { sha256: d.hash.digest("hex"), size: d.size };
}

/** Downloads `url` into a fresh temporary file while hashing it. */
async function download(url: string): Promise<{ path: string; dir: string; sha256: string; size: number }> {
  const res = await request(url, { method: "GET", headersTimeout: 30_000, bodyTimeout: 120_000 });
  if (res.statusCode < 200 || res.statusCode >= 300) {
    await res.body.dump();
    throw new Error(`GET ${urlForMessages(url)} answered HTTP ${res.statusCode}`);
  }
  const dir = await mkdtemp(join(tmpdir(), "pulumi-dpu-artifact-"));
  const path = join(dir, "data");
  const d = new Digest(MAX_URL_BYTES);
  try {
    // Flowing, never paused (see consumeBody): the Digest and the file take each chunk as it comes.
    const file = createWriteStream(path, { mode: 0o600 });
    file.once("error", (err) => res.body.destroy(err));
    try {
      await consumeBody(res.body, (chunk) => {
        d.absorb(chunk);
        file.write(chunk);
      });
    } finally {
      await new Promise<void>((resolve, reject) =>
        file.end((e?: Error | null) => (e ? reject(e) : resolve())),
      );
    }
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(`GET ${urlForMessages(url)}: ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
    });
  }
  return { path, dir, sha256: d.hash.digest("hex"), size: d.size };
}

/** Normalises an octal mode string to four digits (`755` → `0755`). */
export function normaliseMode(mode: string): string {
  return mode.padStart(4, "0");
}

/**
 * Makes one artifact ready: hashes a local file as a stream, takes inline content, or downloads a URL to a
 * temporary file while hashing it; then verifies the declared sha256. Throws an error naming the artifact when
 * the bytes cannot be had or do not match. Call `dispose()` when done.
 */
export async function loadArtifact(a: WorkloadArtifact, index = 0): Promise<LoadedArtifact> {
  const src = a.source;
  const what = `artifacts[${index}] (${a.destination})`;
  let loaded: { data: FileData; sha256: string; size: number; dispose(): Promise<void> };
  try {
    if ("path" in src) {
      const h = await hashFile(src.path);
      loaded = { data: { localPath: src.path }, ...h, dispose: async () => {} };
    } else if ("content" in src) {
      const data = Buffer.from(src.content, "utf8");
      loaded = { data, sha256: sha256Hex(data), size: data.length, dispose: async () => {} };
    } else {
      const dl = await download(src.url);
      loaded = {
        data: { localPath: dl.path },
        sha256: dl.sha256,
        size: dl.size,
        dispose: () => rm(dl.dir, { recursive: true, force: true }),
      };
    }
  } catch (err) {
    throw new Error(
      `${what}: cannot load its source: ${urlForMessages(err instanceof Error ? err.message : String(err))}`,
      { cause: err },
    );
  }
  if (a.sha256 !== undefined && a.sha256 !== loaded.sha256) {
    await loaded.dispose();
    throw new Error(`${what}: sha256 mismatch: declared ${a.sha256}, source has ${loaded.sha256}`);
  }
  return {
    destination: a.destination,
    mode: normaliseMode(a.mode),
    overwrite: a.overwrite === true,
    ...loaded,
  };
}

/** Loads every artifact (one at a time: large files are hashed from disk); disposes all on a failure. */
export async function loadArtifacts(list: readonly WorkloadArtifact[]): Promise<LoadedArtifact[]> {
  const out: LoadedArtifact[] = [];
  try {
    for (const [i, a] of list.entries()) out.push(await loadArtifact(a, i));
    return out;
  } catch (err) {
    await disposeArtifacts(out);
    throw err;
  }
}

/** Removes every temporary download of `list`. */
export async function disposeArtifacts(list: readonly LoadedArtifact[]): Promise<void> {
  await Promise.all(list.map((a) => a.dispose().catch(() => {})));
}
