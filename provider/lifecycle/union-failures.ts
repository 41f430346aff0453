import type { CheckFailure } from "./check";
import { formatPropertyPath } from "./property-path";
import { type OuterFields, unknownKeyMessage } from "./suggest";

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

/** How {@link unionFailures} reads the alternative the value chose. */
export interface UnionContext<I> {
  /** zod's issues of each alternative (`invalid_union`'s `errors`), in the order of the options. */
  readonly errors: readonly (readonly I[])[];
  /** The failures of one alternative's issues (paths relative to the union's value). */
  readonly alternative: (issues: readonly I[]) => CheckFailure[];
  /** The fields one level up from the union's value, for a key that belongs there. */
  readonly outer?: OuterFields | undefined;
}

/**
 * Failures for a value that matched none of a union's object alternatives, said in the user's terms instead of
 * zod's "Invalid input":
 * - the fields given (the known ones) fit exactly one alternative: that alternative's own failures, at their full
 *   paths (a typo nested in it, a value of the wrong type), with suggestions from its fields;
 * - a field no alternative has: `unknown field "contnt"; did you mean "content"?`, at that field's path;
 * - fields of different alternatives together: which ones, and the alternatives;
 * - otherwise (a required field missing): the alternatives to choose from.
 * Returns undefined when the value is not an object (zod's message about its type stands).
 */
export function unionFailures<I>(
  path: readonly PropertyKey[],
  value: unknown,
  options: readonly UnionOption[],
  ctx: UnionContext<I>,
): CheckFailure[] | undefined {
  if (!isPlainObject(value)) return undefined;
  const all = [...new Set(options.flatMap((o) => o.keys))];
  const given = Object.keys(value);
  const unknown = given.filter((k) => !all.includes(k));
  const known = given.filter((k) => all.includes(k));
  const matching = known.length === 0 ? [] : options.filter((o) => known.every((k) => o.keys.includes(k)));
  const chosen = matching.length === 1 ? ctx.errors[options.indexOf(matching[0] as UnionOption)] : undefined;
  const missingInChosen = (matching[0] as UnionOption | undefined)?.required.some((k) => !given.includes(k));
  if (chosen !== undefined && chosen.length > 0 && !(unknown.length === 0 && missingInChosen)) {
    return ctx.alternative(chosen);
  }
  if (unknown.length > 0) {
    return unknown.map((k) => ({
      property: formatPropertyPath([...path, k]),
      reason: unknownKeyMessage(k, all, ctx.outer),
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
