import * as pulumi from "@pulumi/pulumi";
import { type MarkedInputs, markCredentialUrls, markSecretInputs } from "./secret-inputs";

/** What a DPU resource class registers about its fields (derived from the provider schemas, sdk/generated). */
export interface ResourceFields {
  /** Dotted paths of secret inputs. */
  readonly secretPaths: readonly string[];
  /** Dotted paths of URL inputs that are secret when they carry credentials. */
  readonly credentialUrlPaths: readonly string[];
  /** Observed output keys, declared so that the engine tracks them. */
  readonly observedKeys: readonly string[];
}

/**
 * The props a DPU resource registers: URL inputs that carry credentials and secret inputs wrapped in
 * `pulumi.secret`, every observed output declared (undefined until the provider sets it); and the top-level
 * properties that must be `additionalSecretOutputs`. The caller's args are not changed.
 */
export function resourceProps(args: object, fields: ResourceFields): MarkedInputs {
  const marked = markSecretInputs(markCredentialUrls(args, fields.credentialUrlPaths), fields.secretPaths);
  const props: Record<string, unknown> = { ...marked.props };
  for (const k of fields.observedKeys) props[k] = undefined;
  return { props, additionalSecretOutputs: marked.additionalSecretOutputs };
}

/**
 * The identity a DpuUnderlay or DpuWorkload records on the DPU unless `owner` is set:
 * `<project>/<stack>/<resource name>`, so another stack's (or resource's) object is never taken over.
 */
export function defaultOwner(name: string): string {
  return `${pulumi.getProject()}/${pulumi.getStack()}/${name}`;
}

/** True when `obj` is a custom resource of type token `type` (works across copies of this package). */
export function isResourceOfType(obj: unknown, type: string): boolean {
  return pulumi.CustomResource.isInstance(obj) && (obj as { __pulumiType?: string }).__pulumiType === type;
}
