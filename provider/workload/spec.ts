import type { ConcreteRuntime, DpuWorkloadInputs, WorkloadHealth } from "../resources/dpu-workload.schema";

/** Where workloads live on the DPU. */
export const WORKLOAD_ROOT = "/var/lib/pulumi-dpu/workloads";

/** One artifact as deployed: destination, octal mode, content digest. */
export interface DeployedArtifact {
  readonly destination: string;
  readonly mode: string;
  readonly sha256: string;
}

/** Everything the renderers need, resolved from the inputs (runtime concrete, shell expanded, image pinned). */
export interface WorkloadSpec {
  readonly name: string;
  readonly runtime: ConcreteRuntime;
  /** The argv to run (empty: the image's default command, podman only). */
  readonly argv: readonly string[];
  readonly workingDir?: string;
  readonly user?: string;
  /** Plain and secret variables together (the file holding them is 0600). */
  readonly env: Readonly<Record<string, string>>;
  readonly restart: "no" | "on-failure" | "always";
  readonly cpuLimit?: number;
  readonly memoryLimitMb?: number;
  readonly ports: DpuWorkloadInputs["ports"];
  /** `reference` or `reference@digest` when pinned. */
  readonly image?: { readonly ref: string; readonly pullPolicy: string };
  readonly health?: WorkloadHealth;
  readonly artifacts: readonly DeployedArtifact[];
  /** Root directory of workloads on the DPU (tests point it elsewhere). */
  readonly root: string;
  /** Who owns the workload on the DPU (recorded in `spec/meta` as `owner=`). */
  readonly owner?: string;
}

/** The workload's directory on the DPU. */
export function workloadDir(spec: Pick<WorkloadSpec, "root" | "name">): string {
  return `${spec.root}/${spec.name}`;
}

/** systemd unit name of a workload. */
export function unitName(name: string): string {
  return `pulumi-dpu-${name}.service`;
}

/** podman container name of a workload. */
export function containerName(name: string): string {
  return `pulumi-dpu-${name}`;
}

/** Label put on every container we create (value: the workload name). */
export const CONTAINER_LABEL = "io.pulumi-dpu.workload";

/** The image reference podman runs: pinned to the digest when one is given. */
export function pinnedImage(image: NonNullable<DpuWorkloadInputs["image"]>): string {
  if (!image.digest) return image.reference;
  const base = image.reference.split("@")[0] ?? image.reference;
  return `${base}@${image.digest}`;
}

/** Builds the spec from checked inputs, the resolved runtime and the artifact digests. */
export function resolveSpec(
  inputs: DpuWorkloadInputs,
  runtime: ConcreteRuntime,
  artifacts: readonly DeployedArtifact[],
  root: string = WORKLOAD_ROOT,
): WorkloadSpec {
  const command = inputs.command ?? [];
  const argv = inputs.shell ? ["/bin/sh", "-c", command[0] ?? ""] : [...command];
  return {
    name: inputs.name,
    runtime,
    argv,
    ...(inputs.workingDir !== undefined ? { workingDir: inputs.workingDir } : {}),
    ...(inputs.user !== undefined ? { user: inputs.user } : {}),
    env: { ...inputs.env, ...inputs.secretEnv },
    restart: inputs.restart,
    ...(inputs.cpuLimit !== undefined ? { cpuLimit: inputs.cpuLimit } : {}),
    ...(inputs.memoryLimitMb !== undefined ? { memoryLimitMb: inputs.memoryLimitMb } : {}),
    ports: inputs.ports,
    ...(inputs.image
      ? { image: { ref: pinnedImage(inputs.image), pullPolicy: inputs.image.pullPolicy } }
      : {}),
    ...(inputs.health ? { health: inputs.health } : {}),
    artifacts,
    root,
    ...(inputs.owner !== undefined ? { owner: inputs.owner } : {}),
  };
}
