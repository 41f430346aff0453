import { CONTAINER_LABEL, containerName, type WorkloadSpec, workloadDir } from "./spec";
import { systemdQuote, unitHeader } from "./systemd";

function publish(p: WorkloadSpec["ports"][number]): string {
  const host = p.hostPort ?? p.containerPort;
  return `${p.hostIp ? `${p.hostIp}:` : ""}${host}:${p.containerPort}/${p.protocol}`;
}

function limits(spec: WorkloadSpec): string[] {
  const out: string[] = [];
  if (spec.cpuLimit !== undefined) out.push(`--cpus=${spec.cpuLimit}`);
  if (spec.memoryLimitMb !== undefined) out.push(`--memory=${spec.memoryLimitMb}m`);
  return out;
}

/** The `podman` argv (without `podman` itself) that creates and starts the workload's container. */
export function podmanRunArgv(spec: WorkloadSpec): string[] {
  if (!spec.image) throw new Error(`workload ${spec.name}: the podman runtime needs an image`);
  const argv = [
    "run",
    "--detach",
    `--name=${containerName(spec.name)}`,
    `--label=${CONTAINER_LABEL}=${spec.name}`,
    `--pull=${spec.image.pullPolicy}`,
    `--env-file=${workloadDir(spec)}/spec/env`,
    `--restart=${spec.restart}`,
    "--log-opt=max-size=1mb",
    ...limits(spec),
    ...spec.ports.map((p) => `--publish=${publish(p)}`),
  ];
  if (spec.workingDir) argv.push(`--workdir=${spec.workingDir}`);
  if (spec.user) argv.push(`--user=${spec.user}`);
  argv.push(spec.image.ref, ...spec.argv);
  return argv;
}

/** The podman env file: literal `KEY=value` lines (podman does no quoting or expansion). */
export function renderPodmanEnvFile(env: Readonly<Record<string, string>>): string {
  return Object.keys(env)
    .sort()
    .map((k) => `${k}=${env[k] ?? ""}\n`)
    .join("");
}

/** A Quadlet `.container` unit equivalent to {@link podmanRunArgv}, for hosts with systemd + Quadlet. */
export function renderQuadlet(spec: WorkloadSpec): string {
  if (!spec.image) throw new Error(`workload ${spec.name}: the podman runtime needs an image`);
  const lines = [
    ...unitHeader(spec.name),
    "",
    "[Container]",
    `ContainerName=${containerName(spec.name)}`,
    `Image=${spec.image.ref}`,
    `Label=${CONTAINER_LABEL}=${spec.name}`,
    `Pull=${spec.image.pullPolicy}`,
    `EnvironmentFile=${workloadDir(spec)}/spec/env`,
  ];
  if (spec.argv.length > 0) lines.push(`Exec=${spec.argv.map(systemdQuote).join(" ")}`);
  for (const p of spec.ports) lines.push(`PublishPort=${publish(p)}`);
  if (spec.workingDir) lines.push(`WorkingDir=${spec.workingDir}`);
  if (spec.user) lines.push(`User=${spec.user}`);
  const l = limits(spec);
  if (l.length > 0) lines.push(`PodmanArgs=${l.join(" ")}`);
  lines.push("", "[Service]", `Restart=${spec.restart}`, "", "[Install]", "WantedBy=multi-user.target", "");
  return lines.join("\n");
}
