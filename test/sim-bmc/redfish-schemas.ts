import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import Ajv, { type ValidateFunction } from "ajv";
import addFormats from "ajv-formats";

const BASE = "http://redfish.dmtf.org/schemas/v1/";

/**
 * Loads the DMTF JSON schemas of a directory into ajv. The Redfish schemas use draft-04-style keywords,
 * their own `$schema` and `$id`s under http://redfish.dmtf.org/schemas/v1/, so: non-strict ajv, formats,
 * every file registered under `BASE + filename`. The shared bundle holds only the newest version of each
 * schema, so references to older versions are pointed at the newest one, and references to files absent
 * from the bundle get permissive stubs (they are only link targets).
 */
export class RedfishSchemas {
  private readonly ajv: Ajv;
  private readonly files = new Set<string>();

  constructor(dir: string) {
    this.ajv = new Ajv({ strict: false, validateSchema: false, allErrors: true });
    addFormats(this.ajv);
    const raw = new Map<string, unknown>();
    for (const f of readdirSync(dir))
      if (f.endsWith(".json")) raw.set(f, JSON.parse(readFileSync(join(dir, f), "utf8")));
    for (const f of raw.keys()) this.files.add(f);
    const newest = (name: string): string | undefined => {
      const m = /^(.*)\.v\d+_\d+_\d+\.json$/.exec(name);
      return m ? [...raw.keys()].find((f) => f.startsWith(`${m[1]}.v`)) : undefined;
    };
    const stubs = new Map<string, Set<string>>();
    const rewrite = (ref: string): string => {
      const [url = "", frag = ""] = ref.split("#");
      if (!/^https?:/.test(url)) return ref;
      const local = url.startsWith(BASE) ? url.slice(BASE.length) : undefined;
      if (local && raw.has(local)) return ref;
      const alt = local ? newest(local) : undefined;
      if (alt) return `${BASE}${alt}#${frag}`;
      const set = stubs.get(url) ?? new Set<string>();
      set.add(frag);
      stubs.set(url, set);
      return ref;
    };
    for (const [f, schema] of raw) {
      const copy = JSON.parse(JSON.stringify(schema), (k, v: unknown) =>
        k === "$ref" && typeof v === "string" ? rewrite(v) : v,
      ) as Record<string, unknown>;
      copy.$id = `${BASE}${f}`;
      this.ajv.addSchema(copy);
    }
    for (const [url, frags] of stubs) {
      const definitions: Record<string, object> = {};
      for (const fr of frags) definitions[fr.split("/").pop() ?? ""] = {};
      this.ajv.addSchema({ $id: url, definitions });
    }
  }

  /** Schema file name of an `@odata.type` (`#ComputerSystem.v1_27_0.ComputerSystem`). */
  static fileOf(odataType: string): string {
    const m = /^#([A-Za-z0-9]+)\.(?:(v\d+_\d+_\d+)\.)?([A-Za-z0-9]+)$/.exec(odataType);
    if (!m) throw new Error(`malformed @odata.type ${odataType}`);
    return m[2] ? `${m[1]}.${m[2]}.json` : `${m[1]}.json`;
  }

  has(file: string): boolean {
    return this.files.has(file);
  }

  /** Compiled validator of a schema file. */
  validator(file: string): ValidateFunction {
    const v = this.ajv.getSchema(`${BASE}${file}`);
    if (!v) throw new Error(`no schema ${file}`);
    return v;
  }

  /** Validates `body` against `file`; returns error strings (empty when valid). */
  validate(file: string, body: unknown): string[] {
    const v = this.validator(file);
    if (v(body)) return [];
    return (v.errors ?? []).map(
      (e) => `${e.instancePath || "/"} ${e.message ?? ""} ${JSON.stringify(e.params)}`,
    );
  }
}
