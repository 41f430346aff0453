import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { request } from "undici";
import type { WorkloadArtifact } from "../resources/dpu-workload.schema";

/** An artifact's bytes, loaded on the provider side, with their digest. */
export interface LoadedArtifact {
  readonly destination: string;
  readonly mode: string;
  readonly sha256: string;
  readonly data: Uint8Array;
}

/** Lower-case hex sha256 of `data`. */
export function sha256Hex(data: Uint8Array | string): string {
  return createHash("sha256").update(data).digest("hex");
}

const MAX_URL_BYTES = 512 * 1024 * 1024;

async function fetchUrl(url: string): Promise<Uint8Array> {
  const res = await request(url, { method: "GET", headersTimeout: 30_000, bodyTimeout: 120_000 });
  if (res.statusCode < 200 || res.statusCode >= 300) {
    await res.body.dump();
    throw new Error(`GET ${url} answered HTTP ${res.statusCode}`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body) {
    const b = chunk as Buffer;
    size += b.length;
    if (size > MAX_URL_BYTES) throw new Error(`GET ${url}: more than ${MAX_URL_BYTES} bytes`);
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

/** Normalises an octal mode string to four digits (`755` → `0755`). */
export function normaliseMode(mode: string): string {
  return mode.padStart(4, "0");
}

/**
 * Loads one artifact: reads a local file, takes inline content, or fetches a URL; then verifies the declared
 * sha256. Throws an error naming the artifact when the bytes cannot be had or do not match.
 */
export async function loadArtifact(a: WorkloadArtifact): Promise<LoadedArtifact> {
  let data: Uint8Array;
  const src = a.source;
  try {
    if ("path" in src) data = await readFile(src.path);
    else if ("content" in src) data = Buffer.from(src.content, "utf8");
    else data = await fetchUrl(src.url);
  } catch (err) {
    throw new Error(
      `artifact ${a.destination}: cannot load its source: ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  }
  const sha = sha256Hex(data);
  if (a.sha256 !== undefined && a.sha256 !== sha) {
    throw new Error(`artifact ${a.destination}: sha256 mismatch: declared ${a.sha256}, source has ${sha}`);
  }
  return { destination: a.destination, mode: normaliseMode(a.mode), sha256: sha, data };
}
