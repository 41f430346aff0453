import type { z } from "zod";
import type { CheckFailure } from "./check";
import { formatPropertyPath } from "./property-path";
import { fieldsAt, schemaAt } from "./schema-at";
import { closestName, type OuterFields, unknownKeyMessage } from "./suggest";
import { unionFailures, unionOptionsOf } from "./union-failures";
import { valueAt } from "./unknown";

/** A zod issue as check() reads it; paths are from the resource's root. */
export interface InputIssue {
  readonly code: string;
  readonly path: readonly PropertyKey[];
  readonly message: string;
  /** `unrecognized_keys`: the unknown keys. */
  readonly keys?: readonly string[];
  /** `invalid_union`: each alternative's issues, with paths relative to the union's value. */
  readonly errors?: readonly (readonly InputIssue[])[];
  /** `invalid_key` (a record's key): the key schema's issues. */
  readonly issues?: readonly InputIssue[];
  /** `invalid_value` (an enum or literal): the values allowed. */
  readonly values?: readonly unknown[];
}

/** An enum value typed wrong (`onreset`, `powercycle`): the schema's message and the closest allowed value. */
function invalidValue(issue: InputIssue, body: unknown): string {
  const typed = valueAt(body, issue.path);
  const allowed = (issue.values ?? []).filter((v): v is string => typeof v === "string");
  const close = typeof typed === "string" ? closestName(typed, allowed) : undefined;
  return close !== undefined ? `${issue.message}; did you mean ${JSON.stringify(close)}?` : issue.message;
}

/** A record key that its schema refuses: the key, and the rule it breaks (zod says only "Invalid key in record"). */
function invalidKey(issue: InputIssue): string {
  const key = issue.path[issue.path.length - 1];
  const rules = [...new Set((issue.issues ?? []).map((i) => i.message))];
  return `invalid key ${JSON.stringify(String(key))}: ${rules.length > 0 ? rules.join("; ") : issue.message}`;
}

/** True when an issue is not a failure (during preview: about a value not known yet). */
export type SkipIssue = (issue: InputIssue) => boolean;

/**
 * The fields of the object one level up from the object at `path` (when that object is a field, not an array
 * element), without that field itself.
 */
function outerFields(
  schema: z.core.$ZodType,
  body: unknown,
  path: readonly PropertyKey[],
): OuterFields | undefined {
  const last = path[path.length - 1];
  if (typeof last !== "string") return undefined;
  const up = path.slice(0, -1);
  const fields = fieldsAt(schema, up, valueAt(body, up));
  return fields && { where: formatPropertyPath(up), fields: fields.filter((f) => f !== last) };
}

/**
 * Maps zod issues of `body` checked against `schema` onto check failures in the user's terms: each unknown key at
 * its own path with the closest valid name (from the object's own fields, else one level up); a union's failure
 * per {@link unionFailures}, whose chosen alternative's issues are mapped the same way at their full paths; every
 * other issue with the schema's message. Issues `skip` accepts are left out.
 */
export function issueFailures(
  schema: z.core.$ZodType,
  body: unknown,
  issues: readonly InputIssue[],
  skip: SkipIssue,
): CheckFailure[] {
  const out: CheckFailure[] = [];
  for (const issue of issues) {
    if (skip(issue)) continue;
    if (issue.code === "unrecognized_keys") {
      const keys = issue.keys ?? [];
      const valid = fieldsAt(schema, issue.path, valueAt(body, issue.path), keys) ?? [];
      const outer = outerFields(schema, body, issue.path);
      for (const k of keys) {
        out.push({
          property: formatPropertyPath([...issue.path, k]),
          reason: unknownKeyMessage(k, valid, outer),
        });
      }
      continue;
    }
    if (issue.code === "invalid_key") {
      out.push({ property: formatPropertyPath(issue.path), reason: invalidKey(issue) });
      continue;
    }
    if (issue.code === "invalid_value") {
      out.push({ property: formatPropertyPath(issue.path), reason: invalidValue(issue, body) });
      continue;
    }
    const union = issue.code === "invalid_union" ? schemaAt(schema, issue.path) : undefined;
    const options = union && unionOptionsOf(union);
    const fromUnion =
      options &&
      unionFailures(issue.path, valueAt(body, issue.path), options, {
        errors: issue.errors ?? [],
        alternative: (alt) =>
          issueFailures(
            schema,
            body,
            alt.map((i) => ({ ...i, path: [...issue.path, ...i.path] })),
            skip,
          ),
        outer: outerFields(schema, body, issue.path),
      });
    if (fromUnion !== undefined) out.push(...fromUnion);
    else out.push({ property: formatPropertyPath(issue.path), reason: issue.message });
  }
  return out;
}
