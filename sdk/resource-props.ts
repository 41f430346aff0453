import * as pulumi from "@pulumi/pulumi";
import { withDefaults } from "./resource-options";
import { markCredentialUrls, markSecretInputs } from "./secret-inputs";

/** What a DPU resource class registers about its fields (derived from the provider schemas, sdk/generated). */
export interface ResourceFields {
  /** Dotted paths of secret inputs. */
  readonly secretPaths: readonly string[];
  /** Dotted paths of URL inputs that are secret when they carry credentials. */
  readonly credentialUrlPaths: readonly string[];
  /** Observed output keys, declared so that the engine tracks them. */
  readonly observedKeys: readonly string[];
  /** Default `customTimeouts` (the user's fields win). */
  readonly customTimeouts: pulumi.CustomTimeouts;
  /** Outputs secret whatever the inputs (`additionalSecretOutputs`). */
  readonly secretOutputs?: readonly string[];
}

/** What a DPU resource class passes to `pulumi.dynamic.Resource`. */
export interface Registration {
  /** The props, secrets wrapped and observed outputs declared. */
  readonly props: Record<string, unknown>;
  /** The user's options with the resource's defaults merged in (see {@link withDefaults}). */
  readonly opts: pulumi.CustomResourceOptions;
}

/**
 * What a DPU resource registers: its props, with URL inputs that carry credentials and secret inputs wrapped in
 * `pulumi.secret` and every observed output declared (undefined until the provider sets it); and its options,
 * with the default timeouts and every output that must stay secret. The caller's args are not changed.
 */
export function registration(
  args: object,
  opts: pulumi.CustomResourceOptions | undefined,
  fields: ResourceFields,
): Registration {
  const marked = markSecretInputs(markCredentialUrls(args, fields.credentialUrlPaths), fields.secretPaths);
  const props: Record<string, unknown> = { ...marked.props };
  for (const k of fields.observedKeys) props[k] = undefined;
  return {
    props,
    opts: withDefaults(opts, {
      customTimeouts: fields.customTimeouts,
      additionalSecretOutputs: [...marked.additionalSecretOutputs, ...(fields.secretOutputs ?? [])],
    }),
  };
}

/**
 * The identity a DpuHost, DpuUnderlay or DpuWorkload records (DpuHost: its claim on the DPU) unless `owner` is set:
 * `<project>/<stack>/<resource name>`, so another stack's (or resource's) object is never taken over.
 */
export function defaultOwner(name: string): string {
  return `${pulumi.getProject()}/${pulumi.getStack()}/${name}`;
}

/** True when `obj` is a custom resource of type token `type` (works across copies of this package). */
export function isResourceOfType(obj: unknown, type: string): boolean {
  return pulumi.CustomResource.isInstance(obj) && (obj as { __pulumiType?: string }).__pulumiType === type;
}
