/**
 * The engine's property-value encoding, as it crosses the gRPC boundary in `google.protobuf.Struct`s:
 * secrets are objects tagged with the signature key, unknowns (preview) are a sentinel string.
 *
 * The helpers reproduce the engine's own rules for a provider that answers `acceptSecrets=false` (the dynamic
 * provider host does): strip secret wrappers before every call, re-mark outputs afterwards (`annotateSecrets`,
 * then `additionalSecretOutputs`).
 */

/** `pulumi.runtime.specialSigKey`: the key that tags a special value. */
export const SIG_KEY = "4dabf18193072939515e22adb298388d";
/** `pulumi.runtime.specialSecretSig`: the signature of a secret. */
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
/** `pulumi.runtime.unknownValue`: a value not known during preview. */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** A JSON value as carried in a Struct (secret wrappers are plain objects too). */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
/** A property map (the top level of a Struct). */
export type PropertyMap = Record<string, Json>;

/** Wraps a value in the engine's secret envelope. */
export function secret(value: Json): Json {
  return { [SIG_KEY]: SECRET_SIG, value };
}

function isObject(v: unknown): v is { [key: string]: Json } {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** True when `v` is a secret envelope. */
export function isSecret(v: unknown): v is { value: Json } {
  return isObject(v) && v[SIG_KEY] === SECRET_SIG;
}

/** True when `v` is, or contains, a secret envelope. */
export function containsSecrets(v: unknown): boolean {
  if (isSecret(v)) return true;
  if (Array.isArray(v)) return v.some(containsSecrets);
  if (isObject(v)) return Object.values(v).some(containsSecrets);
  return false;
}

/** True when `v` is, or contains, the unknown sentinel. */
export function containsUnknowns(v: unknown): boolean {
  if (v === UNKNOWN) return true;
  if (Array.isArray(v)) return v.some(containsUnknowns);
  if (isObject(v)) return Object.values(v).some(containsUnknowns);
  return false;
}

/** Removes every secret envelope, deeply (what the engine sends a provider that does not accept secrets). */
export function stripSecrets<T extends Json>(v: T): T {
  if (isSecret(v)) return stripSecrets(v.value) as T;
  if (Array.isArray(v)) return v.map((x) => stripSecrets(x)) as T;
  if (isObject(v)) {
    const out: Record<string, Json> = {};
    for (const [k, x] of Object.entries(v)) out[k] = stripSecrets(x);
    return out as T;
  }
  return v;
}

/**
 * The engine's `annotateSecrets(outs, ins)`: an output is re-marked secret when the input under the same key
 * contained a secret. Objects on both sides are recursed into (one secret field does not taint its siblings);
 * anything else (arrays, scalars) becomes secret as a whole. Mutates and returns `outs`.
 */
export function annotateSecrets(outs: PropertyMap, ins: PropertyMap): PropertyMap {
  for (const [key, inValue] of Object.entries(ins)) {
    if (!(key in outs)) continue;
    const outValue = outs[key];
    const inPlain = isSecret(inValue) ? undefined : inValue;
    if (isObject(outValue) && !isSecret(outValue) && isObject(inPlain)) {
      annotateSecrets(outValue, inPlain);
    } else if (!isSecret(outValue) && containsSecrets(inValue) && outValue !== undefined) {
      outs[key] = secret(outValue);
    }
  }
  return outs;
}

/** Marks the named top-level outputs secret (`additionalSecretOutputs`). Mutates and returns `outs`. */
export function markAdditionalSecrets(outs: PropertyMap, names: readonly string[]): PropertyMap {
  for (const name of names) {
    const v = outs[name];
    if (v !== undefined && v !== null && !isSecret(v)) outs[name] = secret(v);
  }
  return outs;
}

/** Deep copy of a JSON value (state snapshots must not alias what a test later mutates). */
export function clone<T extends Json>(v: T): T {
  return structuredClone(v);
}
