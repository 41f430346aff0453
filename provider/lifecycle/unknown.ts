/**
 * Pulumi's sentinel for a value not known yet (during `pulumi preview`, an output of a resource that is not
 * created yet). The dynamic-provider host passes it to check() and diff() as this plain string.
 */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** True when `v` is the unknown sentinel. */
export function isUnknown(v: unknown): boolean {
  return v === UNKNOWN;
}

/** True when `v` is, or contains at any depth, the unknown sentinel. */
export function containsUnknown(v: unknown): boolean {
  if (isUnknown(v)) return true;
  if (Array.isArray(v)) return v.some(containsUnknown);
  if (v !== null && typeof v === "object") return Object.values(v).some(containsUnknown);
  return false;
}

/** The value at `path` in `root`, or `undefined`. Stops (returning the sentinel) at an unknown ancestor. */
export function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = root;
  for (const key of path) {
    if (isUnknown(cur)) return cur;
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[key];
  }
  return cur;
}
