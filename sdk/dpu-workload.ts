import * as pulumi from "@pulumi/pulumi";
import type { DpuWorkloadOutputs } from "../provider/resources/dpu-workload";
import {
  DPU_WORKLOAD_OBSERVED_KEYS,
  DPU_WORKLOAD_SECRET_OUTPUTS as GENERATED_SECRET_OUTPUTS,
  DPU_WORKLOAD_SECRET_PATHS as GENERATED_SECRET_PATHS,
} from "./generated/metadata";
import type { DpuWorkloadArgs as GeneratedDpuWorkloadArgs } from "./generated/types";
import { providerShim } from "./provider-shim";
import { withDefaults } from "./resource-options";
import { markSecretArtifacts } from "./secret-artifacts";
import { hasCredentials, markCredentialUrl, markSecretInputs } from "./secret-inputs";

/** The type token of {@link DpuWorkload}. */
export const DPU_WORKLOAD_TYPE = "pulumi-nodejs:dynamic/dpu:DpuWorkload";

/** Secret input paths, derived from the provider schema's `.meta({ secret: true })` (sdk/generated/metadata.ts). */
export const DPU_WORKLOAD_SECRET_PATHS: readonly string[] = GENERATED_SECRET_PATHS;

/**
 * Observed outputs always secret (derived, like the provider's `DPU_WORKLOAD_SECRET_OUTPUTS`, from the `secret`
 * metadata of `DpuWorkloadObservedSchema`): the log tail is the workload's own output and may hold secrets the
 * provider cannot redact.
 */
export const DPU_WORKLOAD_SECRET_OUTPUTS: readonly string[] = GENERATED_SECRET_OUTPUTS;

/** Default `customTimeouts` of a DpuWorkload: uploads, image pulls and the health wait. */
export const DPU_WORKLOAD_TIMEOUTS: pulumi.CustomTimeouts = { create: "15m", update: "15m", delete: "5m" };

/** Observed output keys (provider/resources/observed-outputs.ts, via sdk/generated/metadata.ts). */
const OBSERVED: readonly (keyof DpuWorkloadOutputs)[] = DPU_WORKLOAD_OBSERVED_KEYS;

const provider = providerShim("dpuWorkload");

/** Each artifact's `source.url` marked secret when it carries credentials (see {@link markCredentialUrl}). */
function markCredentialUrls(artifacts: unknown): unknown {
  const one = (a: unknown): unknown => {
    if (!isPlain(a) || !isPlain(a.source) || a.source.url === undefined) return a;
    return { ...a, source: { ...a.source, url: markCredentialUrl(a.source.url) } };
  };
  if (Array.isArray(artifacts)) return artifacts.map(one);
  if (pulumi.Output.isInstance(artifacts)) {
    // The list is known later: a credential in any URL makes the whole list secret.
    return artifacts.apply((list: unknown) =>
      Array.isArray(list) && list.some((a) => isPlain(a) && isPlain(a.source) && hasCredentials(a.source.url))
        ? pulumi.secret(list)
        : list,
    );
  }
  return artifacts;
}

/** `health.httpUrl` marked secret when it carries credentials. */
function markHealthUrl(health: unknown): unknown {
  if (!isPlain(health) || health.httpUrl === undefined) return health;
  return { ...health, httpUrl: markCredentialUrl(health.httpUrl) };
}

function isPlain(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype;
}

/**
 * Arguments of a {@link DpuWorkload}: the provider's `DpuWorkloadInputsSchema`, every field a `pulumi.Input`.
 * `connection.privateKey` may come from the stack config (`dpu:sshPrivateKey`).
 */
export interface DpuWorkloadArgs extends GeneratedDpuWorkloadArgs {}

/**
 * An opaque workload on the DPU's CPU (a supervised process, a systemd unit or a podman container), deployed
 * over SSH, health-checked, and redeployed when its definition changes. `secretEnv`, the SSH credentials and
 * `logTail` stay secret in state and outputs; an artifact holding a secret is marked `secret` (mode 0600).
 * Default timeouts: {@link DPU_WORKLOAD_TIMEOUTS}.
 *
 * @example
 * ```ts
 * new DpuWorkload("dpu-0-agent", {
 *   connection: { host: "10.0.0.15" },          // key from dpu:sshPrivateKey
 *   name: "agent",
 *   command: ["/opt/agent/bin/agent", "--port", "9000"],
 *   secretEnv: { TOKEN: cfg.requireSecret("agentToken") },
 *   health: { tcpPort: 9000 },
 * }, { dependsOn: [underlay] });
 * ```
 */
export class DpuWorkload extends pulumi.dynamic.Resource {
  /** SSH connection (credentials secret). */
  declare public readonly connection: pulumi.Output<DpuWorkloadOutputs["connection"]>;
  /** Workload name on the DPU. */
  declare public readonly name: pulumi.Output<DpuWorkloadOutputs["name"]>;
  /** Requested runtime. */
  declare public readonly runtime: pulumi.Output<DpuWorkloadOutputs["runtime"]>;
  /** Command (argv). */
  declare public readonly command: pulumi.Output<DpuWorkloadOutputs["command"]>;
  /** Whether `command` is one shell string. */
  declare public readonly shell: pulumi.Output<DpuWorkloadOutputs["shell"]>;
  /** Working directory. */
  declare public readonly workingDir: pulumi.Output<DpuWorkloadOutputs["workingDir"]>;
  /** User the workload runs as. */
  declare public readonly user: pulumi.Output<DpuWorkloadOutputs["user"]>;
  /** Container image (podman). */
  declare public readonly image: pulumi.Output<DpuWorkloadOutputs["image"]>;
  /** Uploaded files. */
  declare public readonly artifacts: pulumi.Output<DpuWorkloadOutputs["artifacts"]>;
  /** Plain environment. */
  declare public readonly env: pulumi.Output<DpuWorkloadOutputs["env"]>;
  /** Secret environment (secret). */
  declare public readonly secretEnv: pulumi.Output<DpuWorkloadOutputs["secretEnv"]>;
  /** Restart policy. */
  declare public readonly restart: pulumi.Output<DpuWorkloadOutputs["restart"]>;
  /** CPU limit. */
  declare public readonly cpuLimit: pulumi.Output<DpuWorkloadOutputs["cpuLimit"]>;
  /** Memory limit in MiB. */
  declare public readonly memoryLimitMb: pulumi.Output<DpuWorkloadOutputs["memoryLimitMb"]>;
  /** Published ports (podman). */
  declare public readonly ports: pulumi.Output<DpuWorkloadOutputs["ports"]>;
  /** Health check. */
  declare public readonly health: pulumi.Output<DpuWorkloadOutputs["health"]>;
  /** Desired state. */
  declare public readonly state: pulumi.Output<DpuWorkloadOutputs["state"]>;
  /** Owner recorded on the DPU (default `<project>/<stack>/<resource name>`). */
  declare public readonly owner: pulumi.Output<DpuWorkloadOutputs["owner"]>;
  /** Redeploy triggers. */
  declare public readonly triggers: pulumi.Output<DpuWorkloadOutputs["triggers"]>;
  /** The runtime in use (`auto` resolved). */
  declare public readonly resolvedRuntime: pulumi.Output<DpuWorkloadOutputs["resolvedRuntime"]>;
  /** Observed status: `running`, `failed` or `stopped`. */
  declare public readonly status: pulumi.Output<DpuWorkloadOutputs["status"]>;
  /** Main pid on the DPU. */
  declare public readonly pid: pulumi.Output<DpuWorkloadOutputs["pid"]>;
  /** podman container id. */
  declare public readonly containerId: pulumi.Output<DpuWorkloadOutputs["containerId"]>;
  /** Start time of the current run (ISO 8601). */
  declare public readonly startedAt: pulumi.Output<DpuWorkloadOutputs["startedAt"]>;
  /** Restarts since the last deployment. */
  declare public readonly restartCount: pulumi.Output<DpuWorkloadOutputs["restartCount"]>;
  /** sha256 of each artifact on the DPU. */
  declare public readonly artifactDigests: pulumi.Output<DpuWorkloadOutputs["artifactDigests"]>;
  /** Digest of the running image (podman). */
  declare public readonly imageDigest: pulumi.Output<DpuWorkloadOutputs["imageDigest"]>;
  /** Result of the last health probe. */
  declare public readonly lastHealth: pulumi.Output<DpuWorkloadOutputs["lastHealth"]>;
  /**
   * Last log lines of the current version when not running (secrets scrubbed; a secret output). `null` while the
   * workload runs, by design: its output changes on every read and would churn the state.
   */
  declare public readonly logTail: pulumi.Output<DpuWorkloadOutputs["logTail"]>;

  /** True when `obj` is a DpuWorkload (works across copies of this package). */
  static override isInstance(obj: unknown): obj is DpuWorkload {
    return (
      pulumi.CustomResource.isInstance(obj) &&
      (obj as { __pulumiType?: string }).__pulumiType === DPU_WORKLOAD_TYPE
    );
  }

  /**
   * @param name - logical name (unique in the stack; the workload's own name on the DPU is `args.name`).
   * @param args - the workload's desired state.
   * @param opts - resource options; `customTimeouts` fields default to {@link DPU_WORKLOAD_TIMEOUTS}.
   */
  constructor(name: string, args: DpuWorkloadArgs, opts?: pulumi.CustomResourceOptions) {
    const owned = { owner: `${pulumi.getProject()}/${pulumi.getStack()}/${name}`, ...args };
    const marked = markSecretInputs(
      {
        ...owned,
        artifacts: markCredentialUrls(markSecretArtifacts(args.artifacts)),
        health: markHealthUrl(args.health),
      },
      DPU_WORKLOAD_SECRET_PATHS,
    );
    const props: Record<string, unknown> = { ...marked.props };
    for (const k of OBSERVED) props[k] = undefined;
    super(
      provider,
      name,
      props,
      withDefaults(opts, {
        customTimeouts: DPU_WORKLOAD_TIMEOUTS,
        additionalSecretOutputs: [...marked.additionalSecretOutputs, ...DPU_WORKLOAD_SECRET_OUTPUTS],
      }),
      "dpu",
      "DpuWorkload",
    );
  }
}
