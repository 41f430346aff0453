import { type WorkloadSpec, workloadDir } from "./spec";

/** Quotes one word for a systemd `ExecStart=`/`Exec=` line (double quotes; `%` and `$` doubled). */
export function systemdQuote(word: string): string {
  const escaped = word.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/%/g, "%%").replace(/\$/g, "$$$$");
  return `"${escaped}"`;
}

/**
 * Why `argv0` cannot be the first word of a systemd `ExecStart=`, or `undefined` when it can.
 *
 * systemd unquotes the first word and only then reads its prefixes, so quoting does not protect it: `"+/bin/x"`
 * runs `/bin/x` with full privileges (ignoring `User=` and every sandboxing setting), `!`/`!!` drop the
 * credential change, `-` ignores failures, `@` takes the next word as argv[0], `:` turns off variable
 * expansion, and newer systemd reads `|` as "run through the user's shell". A first word `;` separates
 * commands, so the next word would be read as a new command, prefixes included. Program names never need
 * these characters, so the first word must start with `/`, `.`, a letter, a digit or `_`.
 */
export function execStartProblem(argv0: string): string | undefined {
  if (argv0 === ";") return "`;` as the program name separates commands in systemd's ExecStart";
  if (/^[A-Za-z0-9_./]/.test(argv0)) return undefined;
  const c = argv0.charAt(0);
  const meaning: Record<string, string> = {
    "+": "run it with full privileges, ignoring `user`",
    "!": "run it without the `user` credential change",
    "-": "ignore its failures",
    "@": "take the next argument as the program",
    ":": "turn off variable expansion",
    "|": "run it through the user's login shell",
  };
  const why = meaning[c] ? `: systemd's ExecStart reads \`${c}\` as a prefix and would ${meaning[c]}` : "";
  return `the program name must start with \`/\`, \`.\`, a letter, a digit or \`_\`, not \`${c || "(empty)"}\`${why}`;
}

/** Escapes `%` specifiers in a systemd path setting. */
function systemdPath(p: string): string {
  return p.replace(/%/g, "%%");
}

/** One `KEY=value` line of a systemd EnvironmentFile: single-quoted (literal) unless the value holds a `'`. */
export function systemdEnvLine(key: string, value: string): string {
  if (!value.includes("'")) return `${key}='${value}'`;
  return `${key}="${value.replace(/[\\"$`]/g, (c) => `\\${c}`)}"`;
}

/** The EnvironmentFile of a systemd workload (sorted, one variable a line). */
export function renderSystemdEnvFile(env: Readonly<Record<string, string>>): string {
  return Object.keys(env)
    .sort()
    .map((k) => `${systemdEnvLine(k, env[k] ?? "")}\n`)
    .join("");
}

/** The first lines of every unit file a workload gets: who manages it, and its `[Unit]` description. */
export function unitHeader(name: string): string[] {
  return [
    `# Managed by pulumi-dpu (DpuWorkload ${name}); changes are overwritten.`,
    "[Unit]",
    `Description=pulumi-dpu workload ${name}`,
  ];
}

/**
 * The `.service` unit of a systemd workload. Every word of `ExecStart=` is quoted ({@link systemdQuote}); the
 * first is refused when systemd would read a prefix in it ({@link execStartProblem}).
 */
export function renderSystemdUnit(spec: WorkloadSpec): string {
  // check() refuses such a command; this guard keeps any other caller from rendering a privileged prefix.
  const problem = execStartProblem(spec.argv[0] ?? "");
  if (problem)
    throw new Error(`workload ${spec.name}: cannot render its systemd unit: command[0]: ${problem}`);
  const lines = [
    ...unitHeader(spec.name),
    "After=network-online.target",
    "Wants=network-online.target",
    "",
    "[Service]",
    "Type=exec",
    `ExecStart=${spec.argv.map(systemdQuote).join(" ")}`,
  ];
  if (spec.workingDir) lines.push(`WorkingDirectory=${systemdPath(spec.workingDir)}`);
  if (spec.user) lines.push(`User=${spec.user}`);
  lines.push(`EnvironmentFile=${systemdPath(`${workloadDir(spec)}/spec/env`)}`);
  lines.push(`Restart=${spec.restart}`, "RestartSec=2");
  if (spec.cpuLimit !== undefined) lines.push(`CPUQuota=${Math.round(spec.cpuLimit * 100)}%`);
  if (spec.memoryLimitMb !== undefined) lines.push(`MemoryMax=${spec.memoryLimitMb}M`);
  lines.push(
    "KillMode=control-group",
    "TimeoutStopSec=10",
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    "",
  );
  return lines.join("\n");
}
