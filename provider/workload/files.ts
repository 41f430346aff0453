import { quoteArg } from "../ssh/quote";
import { podmanRunArgv, renderPodmanEnvFile } from "./podman";
import type { WorkloadSpec } from "./spec";
import { SUPERVISOR_SH } from "./supervisor-script";
import { renderSystemdEnvFile, renderSystemdUnit } from "./systemd";

/** One file of a workload's version, relative to the workload directory. */
export interface SpecFile {
  readonly path: string;
  readonly content: string;
  readonly mode: number;
}

function lines(values: readonly string[]): string {
  return values.map((v) => `${v}\n`).join("");
}

/** Raw `KEY=value` lines read by the process supervisor (no quoting, nothing evaluated). */
export function renderProcessEnvFile(env: Readonly<Record<string, string>>): string {
  return renderPodmanEnvFile(env);
}

/**
 * `export NAME='value'` lines the process supervisor loads in the child's subshell just before `exec`
 * (`spec/env.sh`): names are checked identifiers, values quoted with {@link quoteArg}, so nothing is evaluated.
 */
export function renderProcessEnvScript(env: Readonly<Record<string, string>>): string {
  return Object.entries(env)
    .map(([k, v]) => `export ${k}=${quoteArg(v)}\n`)
    .join("");
}

/** `key=value` lines the supervisor and the control script read (`spec/meta`). */
export function renderMeta(spec: WorkloadSpec): string {
  const meta: [string, string][] = [
    ["runtime", spec.runtime],
    ["restart", spec.restart],
    ["workdir", spec.workingDir ?? ""],
    ["user", spec.user ?? ""],
  ];
  if (spec.owner !== undefined) meta.push(["owner", spec.owner]);
  const h = spec.health;
  if (h) {
    const kind = h.command ? "command" : h.tcpPort !== undefined ? "tcp" : "http";
    meta.push(["health", kind], ["healthtimeout", String(Math.max(1, Math.ceil(h.timeoutMs / 1000)))]);
    if (h.tcpPort !== undefined) meta.push(["healthport", String(h.tcpPort)]);
    if (h.httpUrl) meta.push(["healthurl", h.httpUrl]);
  }
  return lines(meta.map(([k, v]) => `${k}=${v}`));
}

/**
 * Every file of one version of the workload (under `spec/`), plus the supervisor for the process runtime. The
 * env file holds secret values: mode 0600; it travels in the version's ustar archive on the control script's
 * stdin (see `applyVersion`), never in argv.
 */
export function renderSpecFiles(spec: WorkloadSpec): SpecFile[] {
  const env =
    spec.runtime === "systemd"
      ? { path: "spec/env", content: renderSystemdEnvFile(spec.env) }
      : spec.runtime === "podman"
        ? { path: "spec/env", content: renderPodmanEnvFile(spec.env) }
        : { path: "spec/env.sh", content: renderProcessEnvScript(spec.env) };
  const files: SpecFile[] = [
    { ...env, mode: 0o600 },
    { path: "spec/meta", content: renderMeta(spec), mode: 0o600 },
    { path: "spec/argv", content: lines(spec.argv), mode: 0o600 },
    {
      path: "spec/artifacts",
      content: lines(spec.artifacts.map((a) => `${a.mode} ${a.destination}`)),
      mode: 0o600,
    },
  ];
  if (spec.health?.command) {
    files.push({ path: "spec/health.argv", content: lines(spec.health.command), mode: 0o600 });
  }
  if (spec.runtime === "systemd")
    files.push({ path: "spec/unit", content: renderSystemdUnit(spec), mode: 0o644 });
  if (spec.runtime === "podman") {
    files.push({ path: "spec/podman.argv", content: lines(podmanRunArgv(spec)), mode: 0o600 });
  }
  if (spec.runtime === "process") files.push({ path: "supervisor.sh", content: SUPERVISOR_SH, mode: 0o755 });
  return files;
}
