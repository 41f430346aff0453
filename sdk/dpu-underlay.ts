import * as pulumi from "@pulumi/pulumi";
import type { DpuUnderlayOutputs } from "../provider/resources/dpu-underlay";
import {
  DPU_UNDERLAY_OBSERVED_KEYS,
  DPU_UNDERLAY_SECRET_PATHS as GENERATED_SECRET_PATHS,
} from "./generated/metadata";
import type { DpuUnderlayArgs as GeneratedDpuUnderlayArgs } from "./generated/types";
import { providerShim } from "./provider-shim";
import { withDefaults } from "./resource-options";
import { markSecretInputs } from "./secret-inputs";

/** The type token of {@link DpuUnderlay}. */
export const DPU_UNDERLAY_TYPE = "pulumi-nodejs:dynamic/dpu:DpuUnderlay";

/** Secret input paths, derived from the provider schema's `.meta({ secret: true })` (sdk/generated/metadata.ts). */
export const DPU_UNDERLAY_SECRET_PATHS: readonly string[] = GENERATED_SECRET_PATHS;

/** Default `customTimeouts` of a DpuUnderlay: SSH dial retries plus the rollback window and probes. */
export const DPU_UNDERLAY_TIMEOUTS: pulumi.CustomTimeouts = { create: "10m", update: "10m", delete: "5m" };

/** Observed output keys (provider/resources/observed-outputs.ts, via sdk/generated/metadata.ts). */
const OBSERVED: readonly (keyof DpuUnderlayOutputs)[] = DPU_UNDERLAY_OBSERVED_KEYS;

const provider = providerShim("dpuUnderlay");

/**
 * Arguments of a {@link DpuUnderlay}: the provider's `DpuUnderlayInputsSchema`, every field a `pulumi.Input`.
 * `connection.privateKey` may come from the stack config (`dpu:sshPrivateKey`).
 */
export interface DpuUnderlayArgs extends GeneratedDpuUnderlayArgs {}

/**
 * The underlay networking of a DPU, configured over SSH: host name, resolver, interfaces (MTU, addresses,
 * VLANs), static routes, persisted for reboots, applied with a rollback window guarded by probes.
 * Default timeouts: {@link DPU_UNDERLAY_TIMEOUTS}.
 */
export class DpuUnderlay extends pulumi.dynamic.Resource {
  /** SSH connection (credentials secret). */
  declare public readonly connection: pulumi.Output<DpuUnderlayOutputs["connection"]>;
  /** Host name of the DPU. */
  declare public readonly hostname: pulumi.Output<DpuUnderlayOutputs["hostname"]>;
  /** Resolver configuration. */
  declare public readonly dns: pulumi.Output<DpuUnderlayOutputs["dns"]>;
  /** Configured interfaces. */
  declare public readonly interfaces: pulumi.Output<DpuUnderlayOutputs["interfaces"]>;
  /** Static routes. */
  declare public readonly routes: pulumi.Output<DpuUnderlayOutputs["routes"]>;
  /** Persistence backend. */
  declare public readonly persist: pulumi.Output<DpuUnderlayOutputs["persist"]>;
  /** Rollback window, probes and management-interface protection. */
  declare public readonly safety: pulumi.Output<DpuUnderlayOutputs["safety"]>;
  /** Identity of the writer that owns this underlay on the DPU (`<project>/<stack>/<resource name>` by default). */
  declare public readonly owner: pulumi.Output<DpuUnderlayOutputs["owner"]>;
  /** Interfaces as observed on the DPU. */
  declare public readonly observedInterfaces: pulumi.Output<DpuUnderlayOutputs["observedInterfaces"]>;
  /** Declared routes and whether each is present. */
  declare public readonly observedRoutes: pulumi.Output<DpuUnderlayOutputs["observedRoutes"]>;
  /** Host name observed on the DPU. */
  declare public readonly observedHostname: pulumi.Output<DpuUnderlayOutputs["observedHostname"]>;
  /** The interface carrying the SSH session (protected from changes). */
  declare public readonly managementInterface: pulumi.Output<DpuUnderlayOutputs["managementInterface"]>;
  /** Persistence backend in use and the files written. */
  declare public readonly persistence: pulumi.Output<DpuUnderlayOutputs["persistence"]>;
  /** sha256 of the applied configuration. */
  declare public readonly appliedDigest: pulumi.Output<DpuUnderlayOutputs["appliedDigest"]>;
  /** What this resource added or changed on the DPU (delete removes only that). */
  declare public readonly added: pulumi.Output<DpuUnderlayOutputs["added"]>;

  /** True when `obj` is a DpuUnderlay (works across copies of this package). */
  static override isInstance(obj: unknown): obj is DpuUnderlay {
    return (
      pulumi.CustomResource.isInstance(obj) &&
      (obj as { __pulumiType?: string }).__pulumiType === DPU_UNDERLAY_TYPE
    );
  }

  /**
   * @param name - logical name (unique in the stack).
   * @param args - the desired networking.
   * @param opts - resource options; `customTimeouts` fields default to {@link DPU_UNDERLAY_TIMEOUTS}.
   */
  constructor(name: string, args: DpuUnderlayArgs, opts?: pulumi.CustomResourceOptions) {
    // The writer's identity, recorded on the DPU: another stack's (or resource's) underlay is never taken over.
    const owner = args.owner ?? `${pulumi.getProject()}/${pulumi.getStack()}/${name}`;
    const marked = markSecretInputs({ ...args, owner }, DPU_UNDERLAY_SECRET_PATHS);
    const props: Record<string, unknown> = { ...marked.props };
    for (const k of OBSERVED) props[k] = undefined;
    super(
      provider,
      name,
      props,
      withDefaults(opts, {
        customTimeouts: DPU_UNDERLAY_TIMEOUTS,
        additionalSecretOutputs: marked.additionalSecretOutputs,
      }),
      "dpu",
      "DpuUnderlay",
    );
  }
}
