import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type LogSink, logger, setLogSink } from "../../provider/log";

export { freePort } from "../ssh/sshd-fixture";

/** A scratch BFB-like file and a bf.cfg-like tail, with the sha256 of `cat file tail` by coreutils. */
export function bfbAndTail(): { dir: string; bfb: string; tail: Buffer; catSha256: string } {
  const dir = mkdtempSync(join(tmpdir(), "pulumi-dpu-stage-test-"));
  const bfb = join(dir, "image.bfb");
  writeFileSync(
    bfb,
    execFileSync("head", ["-c", String(3 * 1024 * 1024 + 17), "/dev/urandom"], { maxBuffer: 8 << 20 }),
  );
  const tail = Buffer.from("ubuntu_PASSWORD='$6$x$y'\nbfb_modify_os()\n{\n\t:\n}\n");
  writeFileSync(join(dir, "bf.cfg"), tail);
  const catSha256 = execFileSync("sh", ["-c", 'cat "$1" "$2" | sha256sum', "sh", bfb, join(dir, "bf.cfg")], {
    encoding: "utf8",
  }).split(" ")[0] as string;
  return { dir, bfb, tail, catSha256 };
}

/** Captures every log line (debug included) while `fn` runs. */
export async function captureLog<T>(
  fn: () => Promise<T>,
): Promise<{ value: T | undefined; error: unknown; lines: string[] }> {
  const lines: string[] = [];
  const sink: LogSink = (_l, line) => lines.push(line);
  const level = process.env.PULUMI_DPU_LOG;
  process.env.PULUMI_DPU_LOG = "debug";
  const restore = setLogSink(sink);
  try {
    return { value: await fn(), error: undefined, lines };
  } catch (error) {
    return { value: undefined, error, lines };
  } finally {
    restore();
    if (level === undefined) delete process.env.PULUMI_DPU_LOG;
    else process.env.PULUMI_DPU_LOG = level;
  }
}

export const testLog = logger("test stage");

/**
 * Runs `cmd` without blocking the event loop (the stage under test serves from this process), resolving with
 * its exit status and stdout.
 */
export function runAsync(
  cmd: string,
  args: readonly string[],
): Promise<{ status: number | null; stdout: Buffer }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "ignore"] });
    const out: Buffer[] = [];
    child.stdout.on("data", (c: Buffer) => out.push(c));
    child.once("error", reject);
    child.once("close", (status) => resolve({ status, stdout: Buffer.concat(out) }));
  });
}

/** curl (silent, 20 s limit) run asynchronously. */
export function curl(args: readonly string[]): Promise<{ status: number | null; stdout: Buffer }> {
  return runAsync("curl", ["-sS", "--max-time", "20", ...args]);
}
