/** Output helpers of `pulumi-dpu demo`: sections, a framed banner, streamed child output, durations. */

/** Writes one line to stdout. */
export function say(line = ""): void {
  process.stdout.write(`${line}\n`);
}

/** A section header: a blank line, then `── title ──…`. */
export function section(title: string): void {
  say();
  say(`── ${title} ${"─".repeat(Math.max(3, 76 - title.length))}`);
}

/** A framed box around `lines` (the dashboard address, printed at the start and the end). */
export function banner(lines: readonly string[]): void {
  const width = Math.max(...lines.map((l) => l.length));
  say(`  ┌${"─".repeat(width + 4)}┐`);
  for (const l of lines) say(`  │  ${l.padEnd(width)}  │`);
  say(`  └${"─".repeat(width + 4)}┘`);
}

/** Seconds since `start` (a `performance.now()` value), one decimal. */
export function secondsSince(start: number): string {
  return `${((performance.now() - start) / 1000).toFixed(1)} s`;
}

/**
 * Splits streamed chunks into lines and prints each with `prefix` (provider progress from the plugin, or the
 * Pulumi CLI's output). `flush()` prints a trailing partial line.
 */
export class LinePrinter {
  private buf = "";
  /** `rewrite` may change each line before it is printed (e.g. name the DPU a line is about). */
  constructor(
    private readonly prefix: string,
    private readonly rewrite: (line: string) => string = (l) => l,
  ) {}

  /** Adds a chunk. */
  write(chunk: string): void {
    this.buf += chunk;
    for (;;) {
      const nl = this.buf.indexOf("\n");
      if (nl < 0) return;
      const line = this.buf.slice(0, nl).replace(/\r$/, "");
      this.buf = this.buf.slice(nl + 1);
      if (line.trim() !== "") say(`${this.prefix}${this.rewrite(line)}`);
    }
  }

  /** Prints what is left. */
  flush(): void {
    if (this.buf.trim() !== "") say(`${this.prefix}${this.rewrite(this.buf)}`);
    this.buf = "";
  }
}
