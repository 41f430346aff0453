import * as pulumi from "@pulumi/pulumi";
import type { DpuHostOutputs } from "../provider/resources/dpu-host.schema";
import {
  DPU_HOST_CREDENTIAL_URL_PATHS,
  DPU_HOST_OBSERVED_KEYS,
  DPU_HOST_SECRET_OUTPUTS,
  DPU_HOST_SECRET_PATHS as GENERATED_SECRET_PATHS,
} from "./generated/metadata";
import type { DpuHostOutputProperties } from "./generated/outputs";
import type { DpuHostArgs as GeneratedDpuHostArgs } from "./generated/types";
import { providerShim } from "./provider-shim";
import { defaultOwner, isResourceOfType, registration } from "./resource-props";

/** The type token of {@link DpuHost}. */
export const DPU_HOST_TYPE = "pulumi-nodejs:dynamic/dpu:DpuHost";

/** Secret input paths, derived from the provider schema's `.meta({ secret: true })` (sdk/generated/metadata.ts). */
export const DPU_HOST_SECRET_PATHS: readonly string[] = GENERATED_SECRET_PATHS;

/**
 * Default `customTimeouts` of a DpuHost: installing an OS image through the BMC (virtual media or firmware
 * update, reset, boot) routinely takes 10–20 minutes on real DPUs.
 */
export const DPU_HOST_TIMEOUTS: pulumi.CustomTimeouts = { create: "40m", update: "40m", delete: "10m" };

/** Observed output keys (provider/resources/observed-outputs.ts, via sdk/generated/metadata.ts). */
const OBSERVED: readonly (keyof DpuHostOutputs)[] = DPU_HOST_OBSERVED_KEYS;

const provider = providerShim("dpuHost");

/**
 * Arguments of a {@link DpuHost}: the provider's zod input schema (`DpuHostInputsSchema`), every field a
 * `pulumi.Input`. Fields with defaults are optional; `bmc.username` / `bmc.password` may come from the stack
 * config (`dpu:bmcUsername`, `dpu:bmcPassword`).
 */
export interface DpuHostArgs extends GeneratedDpuHostArgs {}

// The output properties, generated with their TSDoc from the provider schemas (sdk/generated/outputs.ts).
export interface DpuHost extends DpuHostOutputProperties {}

/**
 * A DPU provisioned through its BMC (Redfish): the OS image it runs, its power state and its readiness.
 *
 * Creating one installs `image` and waits for the DPU to be ready; changing `image` re-images it; changing the
 * BMC endpoint replaces it. `bmc.password` and `ready.ssh.privateKey` stay secret in state and outputs.
 * Default timeouts: {@link DPU_HOST_TIMEOUTS}.
 *
 * @example
 * ```ts
 * const host = new DpuHost("dpu-0", {
 *   bmc: { endpoint: "https://10.0.0.5" },                  // credentials from dpu:bmcUsername / dpu:bmcPassword
 *   image: { url: "http://images.lab/dpu-os-1.1.iso", sha256: "…" },
 * });
 * export const os = host.osRelease;
 * ```
 */
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: only generated output properties, set by the engine
export class DpuHost extends pulumi.dynamic.Resource {
  /** True when `obj` is a DpuHost (works across copies of this package). */
  static override isInstance(obj: unknown): obj is DpuHost {
    return isResourceOfType(obj, DPU_HOST_TYPE);
  }

  /**
   * @param name - logical name (unique in the stack).
   * @param args - the DPU's desired state.
   * @param opts - resource options; `customTimeouts` fields default to {@link DPU_HOST_TIMEOUTS}.
   */
  constructor(name: string, args: DpuHostArgs, opts?: pulumi.CustomResourceOptions) {
    // A URL with credentials (`scp://user:password@…`, a signed-URL token) is secret in state, like a password.
    // The writer's identity, claimed for the DPU's system: another stack's (or resource's) DpuHost is refused.
    const r = registration({ ...args, owner: args.owner ?? defaultOwner(name) }, opts, {
      secretPaths: DPU_HOST_SECRET_PATHS,
      credentialUrlPaths: DPU_HOST_CREDENTIAL_URL_PATHS,
      observedKeys: OBSERVED,
      customTimeouts: DPU_HOST_TIMEOUTS,
      // The host key generated for `identity.hostKey: generate` (its private half).
      secretOutputs: DPU_HOST_SECRET_OUTPUTS,
    });
    super(provider, name, r.props, r.opts, "dpu", "DpuHost");
  }
}
