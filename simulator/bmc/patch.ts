import { message, RedfishHttpError, type RedfishMessage } from "./errors";

/** What a writable property accepts. */
export type FieldSpec =
  | { readonly kind: "enum"; readonly values: readonly string[] }
  | { readonly kind: "string"; readonly nullable?: boolean; readonly format?: "uri" }
  | { readonly kind: "boolean" }
  | { readonly kind: "object"; readonly fields: Readonly<Record<string, FieldSpec>> };

/** Writable properties of a resource. */
export type PatchSpec = Readonly<Record<string, FieldSpec>>;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function show(v: unknown): string {
  return v === null ? "null" : typeof v === "string" ? v : JSON.stringify(v);
}

function walk(
  body: Record<string, unknown>,
  spec: PatchSpec,
  current: Record<string, unknown> | undefined,
  prefix: string,
  out: RedfishMessage[],
): void {
  for (const [key, value] of Object.entries(body)) {
    if (prefix === "" && key === "@odata.etag") continue;
    const name = `${prefix}${key}`;
    const related = [`#/${name}`];
    const field = spec[key];
    if (!field) {
      const known = current !== undefined && Object.hasOwn(current, key);
      out.push(message(known ? "PropertyNotWritable" : "PropertyUnknown", [name], related));
      continue;
    }
    switch (field.kind) {
      case "enum":
        if (typeof value !== "string")
          out.push(message("PropertyValueTypeError", [show(value), name], related));
        else if (!field.values.includes(value))
          out.push(message("PropertyValueNotInList", [value, name], related));
        break;
      case "boolean":
        if (typeof value !== "boolean")
          out.push(message("PropertyValueTypeError", [show(value), name], related));
        break;
      case "string":
        if (value === null && field.nullable) break;
        if (typeof value !== "string")
          out.push(message("PropertyValueTypeError", [show(value), name], related));
        else if (field.format === "uri" && !URL.canParse(value)) {
          out.push(message("PropertyValueFormatError", [value, name], related));
        }
        break;
      case "object": {
        if (!isRecord(value)) {
          out.push(message("PropertyValueTypeError", [show(value), name], related));
          break;
        }
        const cur = current?.[key];
        walk(value, field.fields, isRecord(cur) ? cur : undefined, `${name}/`, out);
        break;
      }
    }
  }
}

/**
 * Validates a PATCH body against the writable properties of a resource, all or nothing.
 * Unknown properties → `PropertyUnknown`, properties the resource shows but does not let you write →
 * `PropertyNotWritable`, bad enum values → `PropertyValueNotInList`, wrong types → `PropertyValueTypeError`.
 * Every message carries a JSON-pointer `RelatedProperties`. Throws a 400 listing every problem.
 */
export function validatePatch(
  body: unknown,
  spec: PatchSpec,
  current?: Record<string, unknown>,
): Record<string, unknown> {
  if (!isRecord(body)) throw new RedfishHttpError(400, [message("MalformedJSON")]);
  const problems: RedfishMessage[] = [];
  walk(body, spec, current, "", problems);
  if (problems.length > 0) throw new RedfishHttpError(400, problems);
  return body;
}
