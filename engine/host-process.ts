import { type ChildProcess, spawn } from "node:child_process";
import { createRequire } from "node:module";
import * as path from "node:path";

/** Options of {@link spawnDynamicProviderHost}. */
export interface HostProcessOptions {
  /** The program directory: the host's cwd, from which `@pulumi/pulumi` and `__provider` requires resolve. */
  readonly programDir: string;
  /** The Pulumi project name (`PULUMI_NODEJS_PROJECT`, `PULUMI_PROJECT`). */
  readonly project: string;
  /** The stack name (`PULUMI_NODEJS_STACK`). */
  readonly stack?: string;
  /** The stack config as the engine puts it in `PULUMI_CONFIG` (namespaced keys, plaintext values). */
  readonly config?: Record<string, string>;
  /** Extra environment variables. */
  readonly env?: Record<string, string>;
  /** How long to wait for the port line (default 20 s). */
  readonly startTimeoutMs?: number;
  /**
   * Called with every chunk the plugin writes after its port line (the engine forwards a dynamic plugin's
   * stdout and stderr to the user as diagnostics), e.g. to stream provider progress live.
   */
  readonly onOutput?: (chunk: string, stream: "stdout" | "stderr") => void;
}

/** A running `pulumi-resource-pulumi-nodejs` plugin. */
export interface HostProcess {
  /** The gRPC port the host printed on its first stdout line. */
  readonly port: number;
  /** The process-group id (the `sh` shim leads the group; the node host is its child). */
  readonly pid: number;
  /** Everything the plugin wrote to stdout after the port line (the engine shows it as info diagnostics). */
  readonly stdout: () => string;
  /** Everything the plugin wrote to stderr (the engine shows it as error diagnostics). */
  readonly stderr: () => string;
  /** SIGINTs the whole process group, then SIGKILLs it after 5 s, like the engine. */
  close(): Promise<void>;
}

/** Path of the plugin script shipped in `@pulumi/pulumi`, resolved from the program directory. */
export function pluginScript(programDir: string): string {
  const req = createRequire(path.join(programDir, "noop.js"));
  return req.resolve("@pulumi/pulumi/pulumi-resource-pulumi-nodejs");
}

/**
 * Starts the dynamic-provider plugin the way the engine does: `sh pulumi-resource-pulumi-nodejs <engine-addr>`
 * with the program directory as cwd and the project in the environment, detached in its own process group
 * (the shim runs node as a child, so killing `sh` alone would orphan the host). Resolves once the port line
 * arrives.
 */
export async function spawnDynamicProviderHost(opts: HostProcessOptions): Promise<HostProcess> {
  const script = pluginScript(opts.programDir);
  // The shim runs `node` from PATH: put the repository's Node first so the host runs on the same Node as tests.
  const nodeDir = path.dirname(process.execPath);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${nodeDir}${path.delimiter}${process.env.PATH ?? ""}`,
    PULUMI_NODEJS_PROJECT: opts.project,
    PULUMI_PROJECT: opts.project,
    PULUMI_NODEJS_STACK: opts.stack ?? "test",
    PULUMI_STACK: opts.stack ?? "test",
    PULUMI_CONFIG: JSON.stringify(opts.config ?? {}),
    ...opts.env,
  };
  // Vitest workers set NODE_OPTIONS for their own loader; the engine never would.
  delete env.NODE_OPTIONS;
  delete env.VITEST;
  delete env.VITEST_WORKER_ID;
  const child: ChildProcess = spawn("sh", [script, "127.0.0.1:1"], {
    cwd: opts.programDir,
    env,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stderr?.setEncoding("utf8").on("data", (d: string) => {
    err += d;
    opts.onOutput?.(d, "stderr");
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    let buf = "";
    let settled = false;
    const timer = setTimeout(() => fail(new Error("no port line")), opts.startTimeoutMs ?? 20_000);
    function fail(e: Error): void {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(new Error(`dynamic provider host did not start: ${e.message}; stderr: ${err.slice(0, 2000)}`));
    }
    child.once("error", fail);
    child.once("exit", (code) => fail(new Error(`exited with ${code}`)));
    child.stdout?.setEncoding("utf8").on("data", (d: string) => {
      if (settled) {
        out += d;
        opts.onOutput?.(d, "stdout");
        return;
      }
      buf += d;
      const nl = buf.indexOf("\n");
      if (nl < 0) return;
      const line = buf.slice(0, nl).trim();
      const rest = buf.slice(nl + 1);
      out += rest;
      const n = Number(line);
      if (!Number.isInteger(n) || n <= 0) {
        fail(new Error(`wrote an invalid port: ${JSON.stringify(line)}`));
        return;
      }
      settled = true;
      clearTimeout(timer);
      resolve(n);
      if (rest) opts.onOutput?.(rest, "stdout");
    });
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error("dynamic provider host has no pid");
  let closing: Promise<void> | undefined;
  return {
    port,
    pid,
    stdout: () => out,
    stderr: () => err,
    close() {
      closing ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        killGroup(pid, "SIGINT");
        const timer = setTimeout(() => killGroup(pid, "SIGKILL"), 5_000);
        await exited;
        clearTimeout(timer);
        // The node host may outlive the sh leader for a moment; make sure nothing of the group is left.
        killGroup(pid, "SIGKILL");
      })();
      return closing;
    },
  };
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}
