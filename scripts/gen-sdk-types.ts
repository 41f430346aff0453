/**
 * Generates the SDK's input and output types (`sdk/generated/*.ts`) from the providers' zod schemas, so that every
 * field's description reaches the editor as TSDoc, as it does in Pulumi's generated SDKs.
 *
 * - `<Resource>Args` and its nested `<Resource><Path>Args`: the input view (fields with defaults are optional),
 *   every level a `pulumi.Input`, an optional field also accepting an `Output` that may resolve to `undefined`
 *   (so `hostKey: host.hostKeyFingerprint` compiles under `strict`).
 * - `<Resource>Inputs…` plain values of the output view (defaults applied), as state and outputs hold them.
 *
 * The zod schemas are the one source of truth: `npm run generate` rewrites the files, and
 * `test/schema/sdk-types.test.ts` fails when a checked-in file differs from what this module generates.
 */
import { z } from "zod";
import { RESOURCE_SOURCES } from "./gen-resources";
import { type JsonSchema, pascal, SHARED_NAMES } from "./gen-schema";

const singular = (s: string) =>
  s.endsWith("ies")
    ? `${s.slice(0, -3)}y`
    : s.endsWith("ses")
      ? s.slice(0, -2)
      : s.endsWith("s")
        ? s.slice(0, -1)
        : s;

/** TSDoc block for `text`, indented. Escapes the comment terminator. */
function doc(text: string | undefined, indent: string): string {
  if (text === undefined || text.trim() === "") return "";
  const lines = text.replace(/\*\//g, "*\\/").split("\n");
  if (lines.length === 1) return `${indent}/** ${lines[0]} */\n`;
  return `${indent}/**\n${lines.map((l) => `${indent} * ${l}`.trimEnd()).join("\n")}\n${indent} */\n`;
}

function literal(v: string | number | boolean | null): string {
  return typeof v === "string" ? JSON.stringify(v) : String(v);
}

/** How one view (input or output) renders: type names and whether values are wrapped in `pulumi.Input`. */
interface View {
  readonly suffix: string;
  readonly wrap: boolean;
  readonly decls: Map<string, string>;
}

function isObject(js: JsonSchema): boolean {
  return js.type === "object" && js.properties !== undefined;
}

/** The TypeScript type of `js` in `view`; named interfaces are emitted for objects. */
function typeOf(view: View, js: JsonSchema, name: string, path: string): string {
  const wrap = (t: string) => (view.wrap ? `pulumi.Input<${t}>` : t);
  const alts = js.anyOf ?? js.oneOf;
  if (alts !== undefined) {
    // An alternative that is an object with one required key is named for it (`ArtifactSourcePath`).
    const altName = (a: JsonSchema, i: number) =>
      isObject(a) && a.required?.length === 1
        ? `${name}${pascal(a.required[0] as string)}`
        : `${name}${i + 1}`;
    const parts = alts.map((a, i) =>
      typeOf(view, { description: js.description, ...a }, altName(a, i), path),
    );
    return [...new Set(parts)].join(" | ");
  }
  if (js.const !== undefined) return wrap(literal(js.const));
  if (js.enum !== undefined) return wrap(js.enum.map(literal).join(" | "));
  if (isObject(js)) return wrap(declare(view, js, name, path));
  if (js.type === "object") {
    const value =
      typeof js.additionalProperties === "object"
        ? typeOf(view, js.additionalProperties, `${name}Value`, `${path}.*`)
        : "unknown";
    return wrap(`Record<string, ${value}>`);
  }
  if (js.type === "array") {
    const item = js.items === undefined ? "unknown" : typeOf(view, js.items, singular(name), path);
    return wrap(`${item.includes(" | ") ? `(${item})` : item}[]`);
  }
  switch (js.type) {
    case "string":
      return wrap("string");
    case "integer":
    case "number":
      return wrap("number");
    case "boolean":
      return wrap("boolean");
    case "null":
      return wrap("null");
    default:
      return "unknown";
  }
}

/** Emits `export interface <name><suffix>` for an object node and returns its name. */
function declare(view: View, js: JsonSchema, name: string, path: string): string {
  const typeName = `${SHARED_NAMES[path] ?? name}${view.suffix}`;
  const required = new Set(js.required ?? []);
  let body = "";
  for (const [key, prop] of Object.entries(js.properties ?? {})) {
    const childPath = path === "" ? key : `${path}.${key}`;
    const t = typeOf(view, prop, `${name}${pascal(key)}`, childPath);
    const optional = !required.has(key);
    const defaulted = prop.default !== undefined ? ` Default: \`${JSON.stringify(prop.default)}\`.` : "";
    const description =
      prop.description === undefined
        ? undefined
        : prop.description.includes("default") || prop.description.includes("Default")
          ? prop.description
          : `${prop.description}${defaulted}`;
    body += doc(description, "  ");
    const valueType =
      optional && view.wrap ? t.replace(/^pulumi\.Input<(.*)>$/s, "pulumi.Input<$1 | undefined>") : t;
    body += `  ${key}${optional ? "?" : ""}: ${valueType};\n`;
  }
  const text = `${doc(js.description, "")}export interface ${typeName} {\n${body}}\n`;
  const existing = view.decls.get(typeName);
  if (existing !== undefined && existing !== text) {
    throw new Error(`gen-sdk-types: two different shapes named ${typeName}; add a SHARED_NAMES entry`);
  }
  view.decls.set(typeName, text);
  return typeName;
}

const HEADER =
  "// Generated by scripts/gen-sdk-types.ts from provider/resources/*.schema.ts. Do not edit: run `npm run generate`.\n";

/** The generated file's path, relative to the repository root. */
export const SDK_TYPES_FILE = "sdk/generated/types.ts";

/** The text of {@link SDK_TYPES_FILE}: every resource's input and state types, shared shapes once. */
export function generateSdkTypes(): string {
  const input: View = { suffix: "Args", wrap: true, decls: new Map() };
  const output: View = { suffix: "State", wrap: false, decls: new Map() };
  for (const r of RESOURCE_SOURCES) {
    const inJs = z.toJSONSchema(r.inputs, { io: "input", unrepresentable: "any" }) as JsonSchema;
    const outJs = z.toJSONSchema(r.inputs, { io: "output", unrepresentable: "any" }) as JsonSchema;
    declare(
      input,
      { ...inJs, description: `${r.summary} Every field accepts a \`pulumi.Input\`.` },
      r.name,
      "",
    );
    declare(
      output,
      { ...outJs, description: `${r.summary} As state holds them (defaults applied).` },
      r.name,
      "",
    );
  }
  const decls = [...input.decls.values(), ...output.decls.values()].join("\n");
  return `${HEADER}import type * as pulumi from "@pulumi/pulumi";\n\n${decls}`;
}
