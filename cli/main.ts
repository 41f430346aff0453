/**
 * `pulumi-dpu` command-line entry point: one binary, several subcommands.
 *
 * Each subcommand lives in its own module under `cli/` and is loaded only when used, so `inspect` does not pay
 * for the simulator and `sim` does not pay for the provider.
 */
import { nodeVersionProblem } from "./node-version";

/** A subcommand: receives the arguments after its name, resolves to the process exit code. */
export type Command = (argv: readonly string[]) => Promise<number>;

const commands: Record<string, { summary: string; load: () => Promise<Command> }> = {
  demo: {
    summary: "the main job: a simulated fleet provisioned, changed and destroyed by examples/fleet",
    load: async () => (await import("./demo.js")).demo,
  },
  inspect: {
    summary: "show what a BMC supports for DpuHost (read-only)",
    load: async () => (await import("./inspect.js")).inspect,
  },
  sim: {
    summary: "start a simulated DPU lab (Redfish BMCs + DPUs with real sshd)",
    load: async () => (await import("./sim.js")).sim,
  },
};

function usage(): string {
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  return `usage: pulumi-dpu <command> [options]\n\ncommands:\n${lines.join("\n")}\n\nRun 'pulumi-dpu <command> --help' for a command's options.\n`;
}

/** Runs the CLI with `argv` (without node and script) and resolves to the exit code. */
export async function main(argv: readonly string[], nodeVersion: string = process.version): Promise<number> {
  const [name, ...rest] = argv;
  // Before any subcommand loads, let alone starts a lab.
  const tooOld = nodeVersionProblem(nodeVersion);
  if (tooOld) {
    process.stderr.write(`pulumi-dpu: ${tooOld}\n`);
    return 1;
  }
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`pulumi-dpu: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  try {
    return await (await command.load())(rest);
  } catch (err) {
    process.stderr.write(`pulumi-dpu ${name}: ${err instanceof Error ? err.message : String(err)}\n`);
    // node:util parseArgs (an unknown option, a missing value): a usage error, 2 like every other one.
    return String((err as { code?: unknown }).code).startsWith("ERR_PARSE_ARGS") ? 2 : 1;
  }
}
