import * as pulumi from "@pulumi/pulumi";
import type { DpuUnderlayOutputs } from "../provider/resources/dpu-underlay";
import {
  DPU_UNDERLAY_CREDENTIAL_URL_PATHS,
  DPU_UNDERLAY_OBSERVED_KEYS,
  DPU_UNDERLAY_SECRET_PATHS as GENERATED_SECRET_PATHS,
} from "./generated/metadata";
import type { DpuUnderlayOutputProperties } from "./generated/outputs";
import type { DpuUnderlayArgs as GeneratedDpuUnderlayArgs } from "./generated/types";
import { providerShim } from "./provider-shim";
import { defaultOwner, isResourceOfType, registration } from "./resource-props";

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

// The output properties, generated with their TSDoc from the provider schemas (sdk/generated/outputs.ts).
export interface DpuUnderlay extends DpuUnderlayOutputProperties {}

/**
 * The underlay networking of a DPU, configured over SSH: host name, resolver, interfaces (MTU, addresses,
 * VLANs), static routes, persisted for reboots, applied with a rollback window guarded by probes.
 * Default timeouts: {@link DPU_UNDERLAY_TIMEOUTS}.
 */
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: only generated output properties, set by the engine
export class DpuUnderlay extends pulumi.dynamic.Resource {
  /** True when `obj` is a DpuUnderlay (works across copies of this package). */
  static override isInstance(obj: unknown): obj is DpuUnderlay {
    return isResourceOfType(obj, DPU_UNDERLAY_TYPE);
  }

  /**
   * @param name - logical name (unique in the stack).
   * @param args - the desired networking.
   * @param opts - resource options; `customTimeouts` fields default to {@link DPU_UNDERLAY_TIMEOUTS}.
   */
  constructor(name: string, args: DpuUnderlayArgs, opts?: pulumi.CustomResourceOptions) {
    // The writer's identity, recorded on the DPU: another stack's (or resource's) underlay is never taken over.
    const r = registration({ ...args, owner: args.owner ?? defaultOwner(name) }, opts, {
      secretPaths: DPU_UNDERLAY_SECRET_PATHS,
      credentialUrlPaths: DPU_UNDERLAY_CREDENTIAL_URL_PATHS,
      observedKeys: OBSERVED,
      customTimeouts: DPU_UNDERLAY_TIMEOUTS,
    });
    super(provider, name, r.props, r.opts, "dpu", "DpuUnderlay");
  }
}
