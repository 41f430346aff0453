import type { CheckFailure } from "./check";
import { formatPropertyPath } from "./property-path";
import { unknownKeyMessage } from "./suggest";

/** One object alternative of a union: its field names and which of them are required. */
export interface UnionOption {
  readonly keys: readonly string[];
  readonly required: readonly string[];
}

interface ZodInternals {
  _zod?: { def?: { options?: unknown[]; shape?: Record<string, { _zod?: { optin?: string } }> } };
}

/**
 * The object alternatives of a union schema as zod's error map sees it (`iss.inst`), or undefined when any
 * alternative is not an object (then zod's own message stands).
 */
export function unionOptionsOf(inst: unknown): UnionOption[] | undefined {
  const options = (inst as ZodInternals | undefined)?._zod?.def?.options;
  if (!Array.isArray(options) || options.length === 0) return undefined;
  const out: UnionOption[] = [];
  for (const o of options) {
    const shape = (o as ZodInternals)._zod?.def?.shape;
    if (shape === undefined) return undefined;
    const keys = Object.keys(shape);
    out.push({ keys, required: keys.filter((k) => shape[k]?._zod?.optin !== "optional") });
  }
  return out;
}

function describeOption(o: UnionOption): string {
  return `{ ${o.keys.map((k) => (o.required.includes(k) ? k : `${k}?`)).join(", ")} }`;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/**
 * Failures for a value that matched none of a union's object alternatives, said in the user's terms instead of
 * zod's "Invalid input":
 * - a field no alternative has: `unknown field "contnt"; did you mean "content"?`, at that field's path;
 * - fields of different alternatives together: which ones, and the alternatives;
 * - otherwise (a required field missing): the alternatives to choose from.
 * Returns undefined when the value is not an object (zod's message about its type stands).
 */
export function unionFailures(
  path: readonly PropertyKey[],
  value: unknown,
  options: readonly UnionOption[],
): CheckFailure[] | undefined {
  if (!isPlainObject(value)) return undefined;
  const all = [...new Set(options.flatMap((o) => o.keys))];
  const given = Object.keys(value);
  const unknown = given.filter((k) => !all.includes(k));
  if (unknown.length > 0) {
    return unknown.map((k) => ({
      property: formatPropertyPath([...path, k]),
      reason: unknownKeyMessage(k, all),
    }));
  }
  const choices = options.map(describeOption).join(" | ");
  const property = formatPropertyPath(path);
  const fitting = options.filter((o) => given.every((k) => o.keys.includes(k)));
  if (fitting.length === 0) {
    return [
      { property, reason: `these fields do not go together: ${given.join(", ")}; use one of ${choices}` },
    ];
  }
  const missing =
    fitting.length === 1 ? (fitting[0] as UnionOption).required.filter((k) => !given.includes(k)) : [];
  if (missing.length > 0) {
    return [{ property, reason: `missing ${missing.map((k) => `"${k}"`).join(", ")} (one of ${choices})` }];
  }
  return [{ property, reason: `set one of ${choices}` }];
}
