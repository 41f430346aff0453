import { z } from "zod";
import { unwrapField } from "./field-meta";

type AnySchema = z.core.$ZodType;

/** The object keys of `value` (none when it is not a plain object). */
function keysOf(value: unknown): string[] {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? Object.keys(value) : [];
}

/** The field names of an object schema (wrappers stripped), or undefined when it is not an object. */
export function objectFields(schema: AnySchema): string[] | undefined {
  const s = unwrapField(schema).inner;
  return s instanceof z.ZodObject ? Object.keys(s.shape) : undefined;
}

/**
 * The schema at `path` below `schema`, wrappers stripped: through objects, arrays and records; at a union, the
 * alternative that has the next field. Undefined when the path leaves the schema.
 */
export function schemaAt(schema: AnySchema, path: readonly PropertyKey[]): AnySchema | undefined {
  let s: AnySchema | undefined = unwrapField(schema).inner;
  for (const key of path) {
    if (s instanceof z.ZodUnion) {
      s = s._zod.def.options.find((o) => objectFields(o)?.includes(String(key)));
      if (s === undefined) return undefined;
      s = unwrapField(s).inner;
    }
    if (s instanceof z.ZodObject) {
      const shape = s.shape as Record<string, AnySchema>;
      s = Object.hasOwn(shape, String(key)) ? shape[String(key)] : undefined;
    } else if (s instanceof z.ZodArray && typeof key === "number") s = s._zod.def.element;
    else if (s instanceof z.ZodRecord) s = s._zod.def.valueType;
    else return undefined;
    if (s === undefined) return undefined;
    s = unwrapField(s).inner;
  }
  return s;
}

/**
 * The field names valid for the object `value` at `path` below `schema`. At a union, those of the one
 * alternative that has every field given except `unknown` ones; all alternatives' fields when none or several
 * do. Undefined when no object schema is there.
 */
export function fieldsAt(
  schema: AnySchema,
  path: readonly PropertyKey[],
  value: unknown,
  unknown: readonly string[] = [],
): string[] | undefined {
  const s = schemaAt(schema, path);
  if (s instanceof z.ZodUnion) {
    const options = s._zod.def.options.map((o) => objectFields(o) ?? []);
    const known = keysOf(value).filter((k) => !unknown.includes(k));
    const fitting = options.filter((keys) => known.every((k) => keys.includes(k)));
    const chosen = known.length > 0 && fitting.length === 1 ? fitting : options;
    return [...new Set(chosen.flat())];
  }
  return s === undefined ? undefined : objectFields(s);
}
