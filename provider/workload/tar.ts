/** One regular file of a {@link ustar} archive. */
export interface TarEntry {
  /** Relative path (at most 100 bytes). */
  readonly path: string;
  readonly content: string | Uint8Array;
  readonly mode: number;
}

function field(buf: Buffer, offset: number, length: number, value: string): void {
  buf.write(value, offset, length, "utf8");
}

function octal(value: number, length: number): string {
  return `${value.toString(8).padStart(length - 1, "0")}\0`;
}

/**
 * Builds a POSIX ustar archive of regular files in memory (for one `tar -x` on the DPU from stdin: many small
 * files in one SSH round trip, secrets included, never in argv).
 */
export function ustar(entries: readonly TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const data = typeof e.content === "string" ? Buffer.from(e.content, "utf8") : Buffer.from(e.content);
    if (Buffer.byteLength(e.path) > 100) throw new Error(`tar: path too long: ${e.path}`);
    const h = Buffer.alloc(512, 0);
    field(h, 0, 100, e.path);
    field(h, 100, 8, octal(e.mode & 0o7777, 8));
    field(h, 108, 8, octal(0, 8));
    field(h, 116, 8, octal(0, 8));
    field(h, 124, 12, octal(data.length, 12));
    field(h, 136, 12, octal(0, 12));
    field(h, 148, 8, "        ");
    field(h, 156, 1, "0");
    field(h, 257, 6, "ustar\0");
    field(h, 263, 2, "00");
    field(h, 265, 32, "root");
    field(h, 297, 32, "root");
    let sum = 0;
    for (const b of h) sum += b;
    field(h, 148, 8, `${sum.toString(8).padStart(6, "0")}\0 `);
    parts.push(h, data, Buffer.alloc((512 - (data.length % 512)) % 512, 0));
  }
  parts.push(Buffer.alloc(1024, 0));
  return Buffer.concat(parts);
}
