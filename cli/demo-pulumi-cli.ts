/**
 * The demo with a real Pulumi CLI: the copy of examples/fleet in the run's temporary directory (so the stack's
 * `Pulumi.demo.yaml` is not written into the package), a local file backend next to it, an empty passphrase
 * (no prompt), stack `demo`, and the commands a user would type.
 */
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { DemoContext, PhaseResult } from "./demo-context";
import { LinePrinter, say, section } from "./demo-output";

/** A usable Pulumi CLI, or why there is none. */
export type CliLookup = { readonly bin: string; readonly version: string } | { readonly reason: string };

function executable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function candidates(explicit: string | undefined): string[] {
  if (explicit) return [explicit];
  const onPath = (process.env.PATH ?? "")
    .split(path.delimiter)
    .filter(Boolean)
    .map((d) => path.join(d, "pulumi"));
  const home = process.env.PULUMI_HOME ?? path.join(os.homedir(), ".pulumi");
  const versions = path.join(home, "versions");
  // Where the `pulumi` npm package keeps the CLI it downloaded.
  const cached = fs.existsSync(versions)
    ? fs.readdirSync(versions).map((v) => path.join(versions, v, "bin", "pulumi"))
    : [];
  return [...onPath, path.join(home, "bin", "pulumi"), ...cached];
}

/**
 * Looks for a Pulumi CLI: `explicit`, else `pulumi` on PATH, in `$PULUMI_HOME/bin` (default `~/.pulumi/bin`)
 * or a copy the `pulumi` npm package downloaded. It counts only if `pulumi version` succeeds within 10 s.
 */
export function findPulumiCli(explicit?: string): CliLookup {
  const failures: string[] = [];
  for (const bin of candidates(explicit)) {
    if (!executable(bin)) continue;
    const r = spawnSync(bin, ["version"], {
      encoding: "utf8",
      timeout: 10_000,
      env: { ...process.env, PULUMI_SKIP_UPDATE_CHECK: "true" },
    });
    const version = (r.stdout ?? "").trim();
    if (r.status === 0 && version) return { bin, version };
    failures.push(`${bin} version failed${r.error ? `: ${r.error.message}` : ` (exit ${r.status})`}`);
  }
  if (failures.length > 0) return { reason: failures.join("; ") };
  return {
    reason: explicit
      ? `${explicit} is not an executable`
      : "no `pulumi` on PATH, in ~/.pulumi/bin or downloaded by the `pulumi` npm package",
  };
}

/** Runs one `pulumi` command, output streamed with a prefix; `stdin` is piped in (config values). */
function pulumi(
  bin: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  ctx: Pick<DemoContext, "onCleanup" | "nameDpus">,
  stdin?: string,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { env, stdio: ["pipe", "pipe", "pipe"], detached: true });
    const out = new LinePrinter("      │ ", ctx.nameDpus);
    let text = "";
    const onData = (d: string): void => {
      text += d;
      out.write(d);
    };
    child.stdout.setEncoding("utf8").on("data", onData);
    child.stderr.setEncoding("utf8").on("data", onData);
    child.stdin.end(stdin ?? "");
    const unregister = ctx.onCleanup(async () => {
      try {
        if (child.pid) process.kill(-child.pid, "SIGINT");
      } catch {
        // Already gone.
      }
    });
    child.once("error", (e) => {
      unregister();
      reject(e);
    });
    child.once("close", (code) => {
      unregister();
      out.flush();
      // Config values arrive on stdin: never echo them. Only the command and its non-secret arguments show.
      if (code === 0) resolve(text);
      else
        reject(
          new Error(`pulumi ${args.filter((a) => !a.startsWith("--cwd")).join(" ")} exited with ${code}`),
        );
    });
  });
}

/**
 * The counts of Pulumi's closing `Resources:` block (`+ 9 created`, `~ 3 updated`, `6 unchanged`), joined;
 * `done` when there is none.
 */
export function resourceCounts(output: string): string {
  const at = output.lastIndexOf("Resources:");
  if (at < 0) return "done";
  const counts: string[] = [];
  for (const line of output
    .slice(at + "Resources:".length)
    .split("\n")
    .slice(1)) {
    const m = /^\s+(?:[+~-]+\s*)?(\d+ (?:to )?[a-z]+.*)$/.exec(line);
    if (!m?.[1]) break;
    counts.push(m[1].trim());
  }
  return counts.length > 0 ? counts.join(", ") : "done";
}

function shown(value: string): string {
  return value.includes("\n") ? `<${value.trim().split("\n").length} lines>` : JSON.stringify(value);
}

/** Runs the demo's commands with the Pulumi CLI at `bin`; resolves to the phase summaries. */
export async function runWithPulumiCli(ctx: DemoContext, bin: string): Promise<PhaseResult[]> {
  const programDir = ctx.exampleDir;
  const backend = path.join(ctx.workDir, "backend");
  fs.mkdirSync(backend, { recursive: true });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    // The language host and the dynamic-provider plugin run `node`: use this Node (24) for them too.
    PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ""}`,
    PULUMI_BACKEND_URL: `file://${backend}`,
    PULUMI_CONFIG_PASSPHRASE: "",
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DIY_BACKEND_NO_LEGACY_WARNING: "true",
  };
  const common = ["--cwd", programDir, "--non-interactive"];
  const run = (args: readonly string[], stdin?: string) => pulumi(bin, args, env, ctx, stdin);
  const results: PhaseResult[] = [];
  const timed = async (phase: string, args: readonly string[]): Promise<void> => {
    section(`pulumi ${args.join(" ")}`);
    const started = performance.now();
    const output = await run([...args, ...common]);
    results.push({
      phase,
      result: resourceCounts(output),
      seconds: (performance.now() - started) / 1000,
    });
  };
  /** `pulumi config set [--secret] key` with the value on stdin (never on a command line). */
  const setConfig = async (key: string, value: string, secret = false): Promise<void> => {
    say(`  pulumi config set ${secret ? "--secret " : ""}${key} ${secret ? "[secret]" : shown(value)}`);
    await run(["config", "set", ...(secret ? ["--secret"] : []), key, ...common], value);
  };

  section(
    `pulumi stack init ${ctx.stack} (examples/fleet copied to ${programDir}, backend file://${backend})`,
  );
  await run(["stack", "init", ctx.stack, ...common]);
  const unrm = ctx.onCleanup(async () => {
    await run(["stack", "rm", ctx.stack, "--yes", "--force", ...common]).catch(() => undefined);
  });
  try {
    for (const [k, v] of Object.entries(ctx.config)) await setConfig(k, v);
    for (const [k, v] of Object.entries(ctx.secretConfig)) await setConfig(k, v, true);
    await timed("up (provision the fleet)", ["up", "--yes"]);
    section("change: config image=dpu-os-2.0.iso, greeting");
    for (const [k, v] of Object.entries(ctx.change)) await setConfig(k, v);
    await timed("preview --diff", ["preview", "--diff"]);
    await timed("up (apply the change)", ["up", "--yes"]);
    await timed("destroy", ["destroy", "--yes"]);
    await run(["stack", "rm", ctx.stack, "--yes", ...common]);
  } finally {
    unrm();
  }
  return results;
}
