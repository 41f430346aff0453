import * as pulumi from "@pulumi/pulumi";
import type { DpuWorkloadOutputs } from "../provider/resources/dpu-workload";
import {
  DPU_WORKLOAD_CREDENTIAL_URL_PATHS,
  DPU_WORKLOAD_OBSERVED_KEYS,
  DPU_WORKLOAD_SECRET_OUTPUTS as GENERATED_SECRET_OUTPUTS,
  DPU_WORKLOAD_SECRET_PATHS as GENERATED_SECRET_PATHS,
} from "./generated/metadata";
import type { DpuWorkloadOutputProperties } from "./generated/outputs";
import type { DpuWorkloadArgs as GeneratedDpuWorkloadArgs } from "./generated/types";
import { providerShim } from "./provider-shim";
import { defaultOwner, isResourceOfType, registration } from "./resource-props";
import { markSecretArtifacts } from "./secret-artifacts";

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

/**
 * Arguments of a {@link DpuWorkload}: the provider's `DpuWorkloadInputsSchema`, every field a `pulumi.Input`.
 * `connection.privateKey` may come from the stack config (`dpu:sshPrivateKey`).
 */
export interface DpuWorkloadArgs extends GeneratedDpuWorkloadArgs {}

// The output properties, generated with their TSDoc from the provider schemas (sdk/generated/outputs.ts).
export interface DpuWorkload extends DpuWorkloadOutputProperties {}

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
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: only generated output properties, set by the engine
export class DpuWorkload extends pulumi.dynamic.Resource {
  /** True when `obj` is a DpuWorkload (works across copies of this package). */
  static override isInstance(obj: unknown): obj is DpuWorkload {
    return isResourceOfType(obj, DPU_WORKLOAD_TYPE);
  }

  /**
   * @param name - logical name (unique in the stack; the workload's own name on the DPU is `args.name`).
   * @param args - the workload's desired state.
   * @param opts - resource options; `customTimeouts` fields default to {@link DPU_WORKLOAD_TIMEOUTS}.
   */
  constructor(name: string, args: DpuWorkloadArgs, opts?: pulumi.CustomResourceOptions) {
    const r = registration(
      { ...args, owner: args.owner ?? defaultOwner(name), artifacts: markSecretArtifacts(args.artifacts) },
      opts,
      {
        secretPaths: DPU_WORKLOAD_SECRET_PATHS,
        credentialUrlPaths: DPU_WORKLOAD_CREDENTIAL_URL_PATHS,
        observedKeys: OBSERVED,
        customTimeouts: DPU_WORKLOAD_TIMEOUTS,
        secretOutputs: DPU_WORKLOAD_SECRET_OUTPUTS,
      },
    );
    super(provider, name, r.props, r.opts, "dpu", "DpuWorkload");
  }
}
