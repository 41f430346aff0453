import { isUnknown } from "./unknown";

/**
 * Per-field change rules of a resource, declared next to its schema (the TypeScript analogue of Terraform's
 * `RequiresReplace()` plan modifiers): the lifecycle code never decides replacement ad hoc.
 */
export interface FieldRules {
  /** Dotted input paths whose change forces a replacement (e.g. `bmc.endpoint`). A path covers its subtree. */
  readonly replaceOnChanges: readonly string[];
  /** Dotted input paths whose change is an update with no hardware action (e.g. credential rotation). */
  readonly noHardwareAction?: readonly string[];
  /** Dotted input paths never compared (e.g. operator notes). */
  readonly ignoreChanges?: readonly string[];
  /** Delete the old resource before creating the replacement (a DPU cannot run two copies of itself). */
  readonly deleteBeforeReplace?: boolean;
}

/** One changed input path, for the diff and for update() to know what to do. */
export interface FieldChange {
  readonly path: string;
  readonly replace: boolean;
  readonly noHardwareAction: boolean;
}

/** The dynamic-provider diff result (the host forwards changes, replaces and deleteBeforeReplace). */
export interface DiffOutcome {
  readonly changes: boolean;
  readonly replaces: string[];
  readonly deleteBeforeReplace: boolean;
  /** Every changed leaf path (not sent to the engine; used by update() and by tests). */
  readonly changed: readonly FieldChange[];
}

/** Deep structural equality for JSON-like values; `undefined` and a missing key are equal. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined || a === null || b === null) return a === b;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((v, i) => jsonEqual(v, b[i]));
  }
  if (typeof a === "object" && typeof b === "object") {
    const ao = a as Record<string, unknown>;
    const bo = b as Record<string, unknown>;
    const keys = new Set([...Object.keys(ao), ...Object.keys(bo)]);
    for (const k of keys) if (!jsonEqual(ao[k], bo[k])) return false;
    return true;
  }
  return false;
}

function covers(rulePath: string, path: string): boolean {
  return path === rulePath || path.startsWith(`${rulePath}.`) || rulePath.startsWith(`${path}.`);
}

/** Lists changed leaf paths between `a` and `b` (objects recurse; arrays and scalars compare whole). */
function changedPaths(a: unknown, b: unknown, prefix: string, out: string[]): void {
  if (isUnknown(b)) {
    out.push(prefix);
    return;
  }
  const isObj = (v: unknown) => v !== null && typeof v === "object" && !Array.isArray(v);
  if (isObj(a) && isObj(b)) {
    const ao = a as Record<string, unknown>;
    const bo = b as Record<string, unknown>;
    for (const k of new Set([...Object.keys(ao), ...Object.keys(bo)])) {
      changedPaths(ao[k], bo[k], prefix ? `${prefix}.${k}` : k, out);
    }
    return;
  }
  if (!jsonEqual(a, b)) out.push(prefix);
}

/**
 * Compares the desired inputs `news` with the state `olds` over the resource's input keys.
 *
 * `olds` is the state as read() last observed it, so a value changed behind the provider's back (drift) shows
 * as a change here and in `pulumi preview`.
 */
export function diffInputs(
  olds: Record<string, unknown>,
  news: Record<string, unknown>,
  inputKeys: readonly string[],
  rules: FieldRules,
): DiffOutcome {
  const paths: string[] = [];
  for (const key of inputKeys) changedPaths(olds[key], news[key], key, paths);
  const changed: FieldChange[] = [];
  for (const path of paths) {
    if (rules.ignoreChanges?.some((r) => covers(r, path))) continue;
    changed.push({
      path,
      replace: rules.replaceOnChanges.some((r) => covers(r, path)),
      noHardwareAction: rules.noHardwareAction?.some((r) => covers(r, path)) ?? false,
    });
  }
  const replaces = [...new Set(changed.filter((c) => c.replace).map((c) => c.path.split(".")[0] ?? c.path))];
  return {
    changes: changed.length > 0,
    replaces,
    deleteBeforeReplace: replaces.length > 0 && (rules.deleteBeforeReplace ?? false),
    changed,
  };
}
