import * as pulumi from "@pulumi/pulumi";
import { urlHasCredentials } from "../provider/url-credentials";

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return (
    v !== null &&
    typeof v === "object" &&
    !Array.isArray(v) &&
    !pulumi.Output.isInstance(v) &&
    !(v instanceof Promise) &&
    Object.getPrototypeOf(v) === Object.prototype
  );
}

function markPath(value: unknown, path: readonly string[]): { value: unknown; precise: boolean } {
  if (value === undefined || value === null) return { value, precise: true };
  if (path.length === 0) return { value: pulumi.secret(value), precise: true };
  if (Array.isArray(value)) {
    let precise = true;
    const out = value.map((v) => {
      const r = markPath(v, path);
      precise &&= r.precise;
      return r.value;
    });
    return { value: out, precise };
  }
  if (!isPlainObject(value)) return { value, precise: false };
  const [head, ...rest] = path as [string, ...string[]];
  if (!(head in value)) return { value, precise: true };
  const r = markPath(value[head], rest);
  return { value: { ...value, [head]: r.value }, precise: r.precise };
}

/** The result of {@link markSecretInputs}. */
export interface MarkedInputs {
  /** The inputs with each secret leaf wrapped in `pulumi.secret` (a copy; the caller's object is untouched). */
  readonly props: Record<string, unknown>;
  /**
   * Top-level properties that must be `additionalSecretOutputs`: those that are secret as a whole (one-segment
   * paths such as `secretEnv`) and those whose container was an `Output`/`Promise`, where a leaf cannot be
   * wrapped on its own.
   */
  readonly additionalSecretOutputs: string[];
}

/**
 * Marks secret inputs so they stay secret end to end.
 *
 * A leaf wrapped in `pulumi.secret` is encrypted in the state's inputs; the engine strips the wrapper before
 * calling the dynamic provider (which does not accept secrets) and re-marks the outputs afterwards, recursing into
 * objects, so `bmc.password` is secret in the outputs too while `bmc.endpoint` stays readable. Where the
 * container of a secret is only known later (an `Output`), the whole top-level property is listed in
 * `additionalSecretOutputs` instead. Arrays are walked element by element (`connection.jumpHosts.privateKey`).
 *
 * @param args - the user's args (plain object whose properties may be Inputs).
 * @param secretPaths - dotted paths of secret inputs, as the provider's `X_SECRET_INPUTS` lists them.
 */
export function markSecretInputs(args: object, secretPaths: readonly string[]): MarkedInputs {
  let props: Record<string, unknown> = { ...(args as Record<string, unknown>) };
  const extra = new Set<string>();
  for (const p of secretPaths) {
    const segs = p.split(".");
    const top = segs[0] ?? p;
    if (segs.length === 1) extra.add(top);
    const r = markPath(props, segs);
    props = r.value as Record<string, unknown>;
    if (!r.precise) extra.add(top);
  }
  return { props, additionalSecretOutputs: [...extra] };
}

/** True when `url` is a URL with userinfo (`user:pass@`) or a token-like query parameter (`?sig=…`). */
export function hasCredentials(url: unknown): boolean {
  if (typeof url !== "string") return false;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  return urlHasCredentials(u);
}

/**
 * A URL input marked secret when it carries credentials (userinfo or a signed-URL token), so that it is
 * encrypted in state; a plain URL stays readable. An Output is checked once known.
 */
export function markCredentialUrl(url: unknown): unknown {
  if (typeof url === "string") return hasCredentials(url) ? pulumi.secret(url) : url;
  if (pulumi.Output.isInstance(url) || url instanceof Promise) {
    return pulumi.output(url).apply((u) => (hasCredentials(u) ? pulumi.secret(u) : u));
  }
  return url;
}

/** True when some URL at `path` under `value` (arrays walked element by element) carries credentials. */
function credentialAt(value: unknown, path: readonly string[]): boolean {
  if (path.length === 0) return hasCredentials(value);
  if (Array.isArray(value)) return value.some((v) => credentialAt(v, path));
  if (value === null || typeof value !== "object") return false;
  const [head, ...rest] = path as [string, ...string[]];
  return credentialAt((value as Record<string, unknown>)[head], rest);
}

function markUrlPath(value: unknown, path: readonly string[]): unknown {
  if (value === undefined || value === null) return value;
  if (path.length === 0) return markCredentialUrl(value);
  if (Array.isArray(value)) return value.map((v) => markUrlPath(v, path));
  if (pulumi.Output.isInstance(value) || value instanceof Promise) {
    // The container is known later: a credential in any URL under it makes the whole container secret.
    return pulumi.output(value).apply((v: unknown) => (credentialAt(v, path) ? pulumi.secret(v) : v));
  }
  if (!isPlainObject(value)) return value;
  const [head, ...rest] = path as [string, ...string[]];
  if (value[head] === undefined) return value;
  return { ...value, [head]: markUrlPath(value[head], rest) };
}

/**
 * Marks every URL input at `urlPaths` secret when it carries credentials (see {@link markCredentialUrl}); the
 * paths are the fields the provider schema declares `.meta({ credentialUrl: true })` (sdk/generated/metadata.ts).
 *
 * @param args - the user's args (plain object whose properties may be Inputs); a copy is returned.
 * @param urlPaths - dotted paths, arrays walked element by element (`artifacts.source.url`).
 */
export function markCredentialUrls(args: object, urlPaths: readonly string[]): Record<string, unknown> {
  let props: Record<string, unknown> = { ...(args as Record<string, unknown>) };
  for (const p of urlPaths) props = markUrlPath(props, p.split(".")) as Record<string, unknown>;
  return props;
}
