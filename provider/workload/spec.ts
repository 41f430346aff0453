import type { ConcreteRuntime, WorkloadHealth, WorkloadImage, WorkloadPort } from "./input-schemas";

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
  readonly ports: readonly WorkloadPort[];
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
export function pinnedImage(image: WorkloadImage): string {
  if (!image.digest) return image.reference;
  const base = image.reference.split("@")[0] ?? image.reference;
  return `${base}@${image.digest}`;
}
