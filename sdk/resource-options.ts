import type * as pulumi from "@pulumi/pulumi";

/** Defaults a DPU resource applies to the options the user passes. */
export interface ResourceDefaults {
  /** Timeouts for long provisioning, used where the user sets none. */
  readonly customTimeouts: pulumi.CustomTimeouts;
  /** Top-level outputs that are always secret. */
  readonly additionalSecretOutputs: readonly string[];
}

/**
 * Merges the resource's defaults into the user's options: the user's `customTimeouts` fields win, and
 * `additionalSecretOutputs` is the union (a user cannot make a secret output public by passing a shorter list).
 */
export function withDefaults(
  opts: pulumi.CustomResourceOptions | undefined,
  defaults: ResourceDefaults,
): pulumi.CustomResourceOptions {
  const secrets = new Set([...(opts?.additionalSecretOutputs ?? []), ...defaults.additionalSecretOutputs]);
  return {
    ...opts,
    customTimeouts: { ...defaults.customTimeouts, ...opts?.customTimeouts },
    additionalSecretOutputs: [...secrets],
  };
}
