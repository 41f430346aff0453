import { z } from "zod";
import { registerSecret, registerUrlSecrets } from "../log";
import type { FieldRules } from "./diff";

/**
 * Per-field metadata, declared once on the zod input schema with `.meta({…})` (zod 4's global registry, which
 * `.describe()` and `.meta()` clones inherit). Everything else derives from it: the secret path lists of the
 * provider and the SDK, the redaction registration, the diff rules, `schema.json` and the SDK's secret marking.
 */
export interface FieldMeta {
  /**
   * `true`: the value is a secret (secret in state, registered for redaction: a string, or every value of a
   * string record or array). An object or array of objects marked secret is secret in state as a whole, and its
   * own secret fields are redacted. `"whenFlagged"`: redacted only when an enclosing object's `secretFlag` field
   * is `true` (the inline content of a secret artifact); not secret in state.
   */
  readonly secret?: boolean | "whenFlagged";
  /** This boolean field, when `true`, flags the object holding it: its `"whenFlagged"` fields are secrets. */
  readonly secretFlag?: boolean;
  /** A URL whose credentials (userinfo, token query parameters) are secrets for redaction. */
  readonly credentialUrl?: boolean;
  /** Changing this field (or anything under it) replaces the resource. */
  readonly replaceOnChange?: boolean;
  /** Changing this field (or anything under it) is an update with no hardware action. */
  readonly noHardwareAction?: boolean;
}

declare module "zod" {
  interface GlobalMeta extends FieldMeta {}
}

type AnySchema = z.core.$ZodType;

function metaOf(s: AnySchema): FieldMeta {
  return (z.globalRegistry.get(s) ?? {}) as FieldMeta;
}

/** Strips wrappers (optional, default, nullable, pipe…), merging the metadata found on every layer. */
export function unwrapField(schema: AnySchema): { inner: AnySchema; meta: FieldMeta } {
  let s = schema;
  let meta: FieldMeta = {};
  for (let i = 0; i < 32; i++) {
    meta = { ...metaOf(s), ...meta };
    if (
      s instanceof z.ZodOptional ||
      s instanceof z.ZodNullable ||
      s instanceof z.ZodDefault ||
      s instanceof z.ZodPrefault ||
      s instanceof z.ZodReadonly ||
      s instanceof z.ZodCatch
    ) {
      s = s._zod.def.innerType;
    } else if (s instanceof z.ZodPipe) {
      s = s._zod.def.in;
    } else {
      break;
    }
  }
  return { inner: s, meta };
}

function objectShape(s: AnySchema): Record<string, AnySchema> | undefined {
  return s instanceof z.ZodObject ? (s.shape as Record<string, AnySchema>) : undefined;
}

/** The object options of a union, or the object itself, or the element's (arrays). */
function objectParts(s: AnySchema): Record<string, AnySchema>[] {
  const shape = objectShape(s);
  if (shape) return [shape];
  if (s instanceof z.ZodArray) return objectParts(unwrapField(s._zod.def.element).inner);
  if (s instanceof z.ZodUnion) return s._zod.def.options.flatMap((o) => objectParts(unwrapField(o).inner));
  return [];
}

/** Dotted paths of the fields whose metadata satisfies `pick`; a picked field's subtree is not searched. */
export function fieldPaths(schema: AnySchema, pick: (m: FieldMeta) => boolean, prefix = ""): string[] {
  const out: string[] = [];
  for (const shape of objectParts(unwrapField(schema).inner)) {
    for (const [key, field] of Object.entries(shape)) {
      const path = prefix ? `${prefix}.${key}` : key;
      const { inner, meta } = unwrapField(field);
      if (pick(meta)) out.push(path);
      else out.push(...fieldPaths(inner, pick, path));
    }
  }
  return [...new Set(out)];
}

/** Dotted paths of the secret inputs (secret in state and in the SDK). */
export function secretPaths(schema: AnySchema): string[] {
  return fieldPaths(schema, (m) => m.secret === true);
}

/** The diff rules of a resource, from its fields' `replaceOnChange` and `noHardwareAction` metadata. */
export function fieldRules(schema: AnySchema, opts: { deleteBeforeReplace: boolean }): FieldRules {
  return {
    replaceOnChanges: fieldPaths(schema, (m) => m.replaceOnChange === true),
    noHardwareAction: fieldPaths(schema, (m) => m.noHardwareAction === true),
    deleteBeforeReplace: opts.deleteBeforeReplace,
  };
}

/** Where a walked secret value goes: a plain secret, or a URL whose credentials are secrets. */
export interface SecretSink {
  secret(value: string): void;
  url(value: string): void;
}

const isRecordValue = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === "object" && !Array.isArray(v);

/**
 * Hands every secret value of `value` (inputs, possibly partial or unchecked) to `sink`, as `schema`'s
 * metadata declares them. Tolerates any shape: a value that does not match the schema is skipped.
 */
export function walkSecrets(schema: AnySchema, value: unknown, sink: SecretSink, flagged = false): void {
  const { inner, meta } = unwrapField(schema);
  const secret = meta.secret === true || (meta.secret === "whenFlagged" && flagged);
  if (typeof value === "string") {
    if (secret) sink.secret(value);
    if (meta.credentialUrl) sink.url(value);
    return;
  }
  if (inner instanceof z.ZodArray) {
    if (!Array.isArray(value)) return;
    const element = inner._zod.def.element;
    for (const v of value) {
      if (secret && typeof v === "string") sink.secret(v);
      else walkSecrets(element, v, sink, flagged);
    }
    return;
  }
  if (!isRecordValue(value)) return;
  if (inner instanceof z.ZodRecord) {
    for (const v of Object.values(value)) {
      if (secret && typeof v === "string") sink.secret(v);
      else walkSecrets(inner._zod.def.valueType, v, sink, flagged);
    }
    return;
  }
  for (const shape of objectParts(inner)) {
    const flags = Object.entries(shape).some(
      ([k, f]) => unwrapField(f).meta.secretFlag === true && value[k] === true,
    );
    for (const [k, f] of Object.entries(shape)) {
      if (value[k] !== undefined) walkSecrets(f, value[k], sink, flagged || flags);
    }
  }
}

/**
 * Registers for redaction every secret of `value` that `schema`'s metadata declares: secret strings (a PEM key
 * line by line, as {@link registerSecret} does), the values of secret maps, the inline content of secret
 * artifacts, and the credentials of URL fields. The one walker behind every resource's redaction.
 */
export function registerSchemaSecrets(schema: AnySchema, value: unknown): void {
  walkSecrets(schema, value, { secret: registerSecret, url: registerUrlSecrets });
}
