import type { z } from "zod";
import { type InputIssue, issueFailures } from "./issue-failures";
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
  // Every object in the input schemas is strict: each unknown key becomes its own failure at its own path, with
  // a suggestion (the valid fields are read from the schema at that path).
  const parsed = schema.safeParse(body);
  if (parsed.success) {
    return { inputs: hasUnknowns ? raw : { ...(parsed.data as object), ...reserved }, failures: [] };
  }
  const all = issueFailures(
    schema,
    body,
    parsed.error.issues as unknown as InputIssue[],
    (issue) => hasUnknowns && (issue.code === "custom" || isUnknown(valueAt(body, issue.path))),
  );
  // One failure per unknown key (several alternatives may report it), one per distinct reason elsewhere.
  const failures: CheckFailure[] = [];
  const seen = new Set<string>();
  for (const f of all) {
    const key = f.reason.startsWith("unknown field ") ? f.property : `${f.property}\u0000${f.reason}`;
    if (seen.has(key)) continue;
    seen.add(key);
    failures.push(f);
  }
  return { inputs: raw, failures };
}
