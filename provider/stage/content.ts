import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { Readable } from "node:stream";
import { DpuError } from "../errors";

/**
 * One piece of a staged object: bytes in memory, or a local file streamed from disk. An object is the
 * concatenation of its parts, e.g. a BFB file followed by its per-DPU bf.cfg (`cat <BFB> bf.cfg`).
 */
export type StagePart = { readonly bytes: Uint8Array } | { readonly file: string };

/** A staged object's content, measured: parts with their sizes, total size and sha256. */
export interface StageContent {
  readonly parts: readonly StagePart[];
  readonly sizes: readonly number[];
  readonly size: number;
  /** sha256 of the concatenation (lower-case hex). */
  readonly sha256: string;
}

/** A stage operation failed (upload, serving, removal). Messages never carry credentials. */
export class StageError extends DpuError {
  constructor(message: string, options?: { cause?: unknown; retryable?: boolean }) {
    super("DPU_STAGE", message, options);
    this.name = "StageError";
  }
}

/** Streams bytes `[start, end]` (inclusive) of the concatenation of `parts`. */
export function streamParts(content: StageContent, start = 0, end = content.size - 1): Readable {
  const { parts, sizes } = content;
  async function* chunks(): AsyncGenerator<Uint8Array> {
    let offset = 0;
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i] as StagePart;
      const size = sizes[i] as number;
      const from = Math.max(start - offset, 0);
      const to = Math.min(end - offset, size - 1);
      if (from <= to) {
        if ("bytes" in part) yield part.bytes.subarray(from, to + 1);
        else for await (const c of createReadStream(part.file, { start: from, end: to })) yield c as Buffer;
      }
      offset += size;
      if (offset > end) return;
    }
  }
  return Readable.from(chunks(), { objectMode: false });
}

/** Measures `parts`: sizes and the sha256 of their concatenation (files are streamed, never loaded whole). */
export async function measure(parts: readonly StagePart[]): Promise<StageContent> {
  const sizes: number[] = [];
  for (const p of parts) sizes.push("bytes" in p ? p.bytes.byteLength : (await stat(p.file)).size);
  const size = sizes.reduce((a, b) => a + b, 0);
  const hash = createHash("sha256");
  const partial: StageContent = { parts, sizes, size, sha256: "" };
  if (size > 0) for await (const c of streamParts(partial)) hash.update(c as Buffer);
  return { ...partial, sha256: hash.digest("hex") };
}

/** The content-addressed object name: `<sha256>-<name>` (the name keeps the extension BMCs look at). */
export function objectKey(sha256: string, name: string): string {
  if (!/^[A-Za-z0-9._-]{1,100}$/.test(name)) {
    throw new StageError(`stage object name ${JSON.stringify(name)}: use letters, digits and . _ - only`);
  }
  return `${sha256}-${name}`;
}
