import type { z } from "zod";
import { formatPropertyPath } from "./property-path";
import { unknownKeyMessage } from "./suggest";
import { type UnionOption, unionFailures, unionOptionsOf } from "./union-failures";
import { containsUnknown, isUnknown, valueAt } from "./unknown";

/** A check failure as Pulumi shows it: the property path and a reason the user can act on. */
export interface CheckFailure {
  readonly property: string;
  readonly reason: string;
}

/** The result of {@link checkInputs}: the normalised inputs (defaults applied) and any failures. */
export interface CheckOutcome<T> {
  readonly inputs: T | Record<string, unknown>;
  readonly failures: CheckFailure[];
}

/** Keys the engine reserves on dynamic resources; they pass through check untouched. */
const RESERVED_KEYS = ["__provider"] as const;

/**
 * Validates `news` with `schema` and maps zod issues onto Pulumi check failures.
 *
 * - Every failure carries the property path (`interfaces[0].mtu`) and the schema's message.
 * - During preview some values are unknown. A failure about an unknown value (or anything inside one) is not a
 *   failure; cross-field rules (zod `custom` issues) are skipped while anything is unknown, since they may read
 *   the unknown value. The inputs are then returned as given, because defaults cannot be applied around unknowns.
 * - With everything known, the parsed inputs (defaults applied) are returned, so state holds the full picture.
 */
export function checkInputs<S extends z.ZodType>(schema: S, news: unknown): CheckOutcome<z.output<S>> {
  const raw = (news !== null && typeof news === "object" ? news : {}) as Record<string, unknown>;
  const reserved: Record<string, unknown> = {};
  const body: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) {
    if ((RESERVED_KEYS as readonly string[]).includes(k)) reserved[k] = v;
    else body[k] = v;
  }
  const hasUnknowns = containsUnknown(body);
  // Every object in the input schemas is strict. zod reports unknown keys on the enclosing object; the error map
  // sees that object's shape, so each unknown key becomes its own failure at its own path, with a suggestion.
  const validKeysAt = new Map<string, readonly string[]>();
  const unionsAt = new Map<string, UnionOption[]>();
  const parsed = schema.safeParse(body, {
    error: (iss) => {
      if (iss.code === "unrecognized_keys") {
        const shape = (iss.inst as { _zod?: { def?: { shape?: Record<string, unknown> } } } | undefined)?._zod
          ?.def?.shape;
        validKeysAt.set(formatPropertyPath(iss.path ?? []), Object.keys(shape ?? {}));
      }
      if (iss.code === "invalid_union") {
        const options = unionOptionsOf(iss.inst);
        if (options !== undefined) unionsAt.set(formatPropertyPath(iss.path ?? []), options);
      }
      return undefined;
    },
  });
  if (parsed.success) {
    return { inputs: hasUnknowns ? raw : { ...(parsed.data as object), ...reserved }, failures: [] };
  }
  const failures: CheckFailure[] = [];
  const seen = new Set<string>();
  for (const issue of parsed.error.issues) {
    if (hasUnknowns) {
      if (issue.code === "custom") continue;
      if (isUnknown(valueAt(body, issue.path))) continue;
    }
    if (issue.code === "unrecognized_keys") {
      const parent = formatPropertyPath(issue.path);
      const valid = validKeysAt.get(parent) ?? [];
      for (const k of issue.keys) {
        const property = formatPropertyPath([...issue.path, k]);
        if (seen.has(property)) continue;
        seen.add(property);
        failures.push({ property, reason: unknownKeyMessage(k, valid) });
      }
      continue;
    }
    const options = issue.code === "invalid_union" ? unionsAt.get(formatPropertyPath(issue.path)) : undefined;
    const fromUnion = options && unionFailures(issue.path, valueAt(body, issue.path), options);
    if (fromUnion !== undefined) {
      for (const f of fromUnion) {
        const key = `${f.property}\u0000${f.reason}`;
        if (seen.has(key)) continue;
        seen.add(key);
        failures.push(f);
      }
      continue;
    }
    const property = formatPropertyPath(issue.path);
    const key = `${property}\u0000${issue.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    failures.push({ property, reason: issue.message });
  }
  return { inputs: raw, failures };
}
