/**
 * Rendering of a deployment's steps the way `pulumi preview --diff` shows them: one line per resource with
 * `+` create, `~` update, `-` delete, `+-` replace, and under each update the changed input paths
 * `old => new`. Secrets are never printed (`[secret]`); values unknown until apply show as `output<string>`.
 */
import type { StepOp } from "./fake-engine";
import { containsUnknowns, isSecret, type Json, type PropertyMap, stripSecrets, UNKNOWN } from "./wire";

/** The parts of a step a plan needs. */
export interface PlanStep {
  readonly op: StepOp;
  readonly type: string;
  readonly name: string;
  readonly inputs?: PropertyMap;
  readonly oldInputs?: PropertyMap;
  readonly diff?: { readonly replaces: readonly string[] };
}

/** One changed input path. */
export interface InputChange {
  /** Dotted path with array indexes, e.g. `interfaces[0].mtu`. */
  readonly path: string;
  readonly kind: "add" | "remove" | "change";
  /** Display form of the old value (secrets as `[secret]`). */
  readonly old?: string;
  /** Display form of the new value. */
  readonly new?: string;
}

const SYMBOL: Record<StepOp, string> = {
  create: "+",
  update: "~",
  delete: "-",
  replace: "+-",
  same: " ",
  refresh: "~",
  "read-gone": "-",
};

function isPlainObject(v: unknown): v is { [k: string]: Json } {
  return v !== null && typeof v === "object" && !Array.isArray(v) && !isSecret(v);
}

function shorten(s: string, max = 56): string {
  // Digests: the first 12 hex digits identify them well enough in a plan.
  const hex = /[0-9a-f]{40,}/.exec(s);
  if (hex) return shorten(s.replace(hex[0], `${hex[0].slice(0, 12)}…`), max);
  return s.length <= max ? s : `${s.slice(0, 24)}…${s.slice(-(max - 25))}`;
}

/** How a value is shown in a plan: secrets hidden, unknowns as `output<string>`, long strings shortened. */
export function displayValue(v: Json | undefined): string {
  if (v === undefined) return "undefined";
  if (isSecret(v)) return "[secret]";
  if (v === UNKNOWN) return "output<string>";
  if (typeof v === "string") return JSON.stringify(shorten(v));
  if (Array.isArray(v)) return shorten(`[${v.map((x) => displayValue(x)).join(", ")}]`, 80);
  if (v !== null && typeof v === "object") {
    const body = Object.entries(v)
      .map(([k, x]) => `${k}: ${displayValue(x)}`)
      .join(", ");
    return shorten(`{ ${body} }`, 80);
  }
  return String(v);
}

function same(a: Json | undefined, b: Json | undefined): boolean {
  return JSON.stringify(stripSecrets(a ?? null)) === JSON.stringify(stripSecrets(b ?? null));
}

function walk(path: string, a: Json | undefined, b: Json | undefined, out: InputChange[]): void {
  if (same(a, b) && !(a === UNKNOWN || b === UNKNOWN)) return;
  if (a === undefined) {
    out.push({ path, kind: "add", new: displayValue(b) });
    return;
  }
  if (b === undefined) {
    out.push({ path, kind: "remove", old: displayValue(a) });
    return;
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
      walk(path ? `${path}.${k}` : k, a[k], b[k], out);
    }
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.max(a.length, b.length); i++) walk(`${path}[${i}]`, a[i], b[i], out);
    return;
  }
  // A secret whose value changed shows as [secret] => [secret]; anything else old => new.
  out.push({ path, kind: "change", old: displayValue(a), new: displayValue(b) });
}

/**
 * The input paths that differ between the inputs in state and the new checked inputs. `__provider` (the
 * serialized provider code) is reported as one path when it changed.
 */
export function inputChanges(olds: PropertyMap, news: PropertyMap): InputChange[] {
  const out: InputChange[] = [];
  const { __provider: oldProvider, ...o } = olds;
  const { __provider: newProvider, ...n } = news;
  walk("", o, n, out);
  if (oldProvider !== undefined && newProvider !== undefined && !same(oldProvider, newProvider)) {
    out.push({ path: "__provider", kind: "change", old: "(provider code)", new: "(changed provider code)" });
  }
  return out;
}

/** The lines of a `pulumi preview --diff`-like plan; unchanged resources are left out. */
export function formatPlan(steps: readonly PlanStep[], indent = "  "): string[] {
  const lines: string[] = [];
  for (const s of steps) {
    if (s.op === "same") continue;
    const sym = SYMBOL[s.op].padEnd(2);
    const why =
      s.op === "replace" && s.diff?.replaces.length ? ` [replace: ${s.diff.replaces.join(", ")}]` : "";
    lines.push(`${indent}${sym} ${s.type}  ${s.name}  (${s.op})${why}`);
    if ((s.op === "update" || s.op === "replace") && s.oldInputs && s.inputs) {
      let changes = inputChanges(s.oldInputs, s.inputs);
      // While some inputs are unknown, check cannot apply defaults: the defaulted fields look removed but are
      // filled in again at apply time. Leave them out and say so.
      const pending = containsUnknowns(s.inputs) ? changes.filter((c) => c.kind === "remove") : [];
      if (pending.length > 0) changes = changes.filter((c) => c.kind !== "remove");
      for (const c of changes) {
        const mark = c.kind === "add" ? "+" : c.kind === "remove" ? "-" : "~";
        const text =
          c.kind === "add" ? c.new : c.kind === "remove" ? c.old : `${c.old ?? ""} => ${c.new ?? ""}`;
        lines.push(`${indent}      ${mark} ${c.path}: ${text}`);
      }
      if (pending.length > 0) {
        lines.push(
          `${indent}        (+ ${pending.length} defaults, applied by check once the output<string> values are known)`,
        );
      }
    }
  }
  return lines;
}

/** Steps counted by what happened: `{ create: 3, same: 6 }`. */
export function countSteps(steps: readonly { readonly op: StepOp }[]): Partial<Record<StepOp, number>> {
  const counts: Partial<Record<StepOp, number>> = {};
  for (const s of steps) counts[s.op] = (counts[s.op] ?? 0) + 1;
  return counts;
}

/** `3 to create, 6 unchanged` (preview) or `3 created, 6 unchanged` (up, destroy). */
export function describeCounts(counts: Partial<Record<StepOp, number>>, planned: boolean): string {
  const words: [StepOp, string, string][] = [
    ["create", "to create", "created"],
    ["update", "to update", "updated"],
    ["replace", "to replace", "replaced"],
    ["delete", "to delete", "deleted"],
    ["same", "unchanged", "unchanged"],
  ];
  const parts = words
    .filter(([op]) => (counts[op] ?? 0) > 0)
    .map(([op, future, past]) => `${counts[op]} ${planned ? future : past}`);
  return parts.length > 0 ? parts.join(", ") : "no changes";
}
