import { type WorkloadSpec, workloadDir } from "./spec";

/** Quotes one word for a systemd `ExecStart=`/`Exec=` line (double quotes; `%` and `$` doubled). */
export function systemdQuote(word: string): string {
  const escaped = word.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/%/g, "%%").replace(/\$/g, "$$$$");
  return `"${escaped}"`;
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

/** The `.service` unit of a systemd workload. */
export function renderSystemdUnit(spec: WorkloadSpec): string {
  const lines = [
    `# Managed by pulumi-dpu (DpuWorkload ${spec.name}); changes are overwritten.`,
    "[Unit]",
    `Description=pulumi-dpu workload ${spec.name}`,
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
