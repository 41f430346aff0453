import * as pulumi from "@pulumi/pulumi";

/** `true` when any part of `value` is a Pulumi secret; `undefined` otherwise (so nothing is sent). */
async function secretFlag(value: unknown): Promise<true | undefined> {
  return (await pulumi.isSecret(pulumi.output(value))) ? true : undefined;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype;
}

/** One artifact: an explicit `secret` wins; otherwise `secret: true` when any of its parts is a secret. */
function markArtifact(a: unknown): unknown {
  if (isPlainObject(a)) {
    if (a.secret !== undefined) return a;
    return { ...a, secret: secretFlag(a) };
  }
  if (pulumi.Output.isInstance(a) || a instanceof Promise) {
    const out = pulumi.output(a);
    return pulumi
      .all([out, secretFlag(out)])
      .apply(([v, secret]) => (isPlainObject(v) && v.secret === undefined && secret ? { ...v, secret } : v));
  }
  return a;
}

/**
 * Declares which artifacts of a DpuWorkload hold secret content, so that the provider gives them mode `0600`.
 *
 * The engine strips secretness before it calls a dynamic provider, so the provider cannot see that
 * `content: pulumi.secret(key)` was secret. The SDK can: each artifact without an explicit `secret` gets
 * `secret: true` when any part of it (its content, its source, the artifact itself) is a secret Output, and
 * nothing otherwise (existing state does not change). When the whole `artifacts` list is one Output, its
 * secretness applies to every artifact in it. An explicit `secret: false` or `mode` always wins.
 *
 * @param artifacts - the user's `artifacts` input (array, Output of an array, or undefined).
 */
export function markSecretArtifacts(artifacts: unknown): unknown {
  if (artifacts === undefined || artifacts === null) return artifacts;
  if (Array.isArray(artifacts)) return artifacts.map(markArtifact);
  if (pulumi.Output.isInstance(artifacts) || artifacts instanceof Promise) {
    const out = pulumi.output(artifacts);
    return pulumi
      .all([out, secretFlag(out)])
      .apply(([list, secret]) =>
        Array.isArray(list) && secret
          ? list.map((a: unknown) => (isPlainObject(a) && a.secret === undefined ? { ...a, secret } : a))
          : list,
      );
  }
  return artifacts;
}
