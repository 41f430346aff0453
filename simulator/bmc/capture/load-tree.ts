import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

/** One captured response. */
export type CapturedResource =
  /** A JSON resource (`index.json`, or a `name.json` file). */
  | { readonly kind: "json"; readonly body: Readonly<Record<string, unknown>> }
  /** The CSDL document (`$metadata/index.xml`). */
  | { readonly kind: "xml"; readonly text: string }
  /** A non-JSON response recorded as `HTTP <status>`, headers, blank line, body (`error.txt`). */
  | { readonly kind: "raw"; readonly status: number; readonly text: string };

/** A captured Redfish tree: URI path (no trailing slash) → response, in a stable order. */
export interface CaptureTree {
  /** Directory the tree was read from. */
  readonly dir: string;
  readonly resources: ReadonlyMap<string, CapturedResource>;
}

const cache = new Map<string, CaptureTree>();

/** Captured bodies are shared by every BMC of the process: frozen, so no handler can change one by mistake. */
function deepFreeze<T>(v: T): T {
  if (typeof v === "object" && v !== null && !Object.isFrozen(v)) {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}

function readJson(file: string): Readonly<Record<string, unknown>> {
  return deepFreeze(JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>);
}

function parseRaw(text: string): CapturedResource {
  const m = /^HTTP\/?[\d.]*\s+(\d{3})/.exec(text);
  const split = text.indexOf("\n\n") >= 0 ? text.indexOf("\n\n") + 2 : text.length;
  return { kind: "raw", status: m ? Number(m[1]) : 200, text: text.slice(split) };
}

function walk(dir: string, uri: string, out: Map<string, CapturedResource>, top: boolean): void {
  const entries = readdirSync(dir).sort();
  for (const name of entries) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) {
      walk(full, `${uri}/${name}`, out, false);
      continue;
    }
    if (name === "index.json") {
      out.set(uri, { kind: "json", body: readJson(full) });
    } else if (name === "index.xml") {
      out.set(uri, { kind: "xml", text: readFileSync(full, "utf8") });
    } else if (name === "error.txt") {
      out.set(uri, parseRaw(readFileSync(full, "utf8")));
    } else if (name.endsWith(".json") && !(top && name === "explorer_config.json")) {
      // Short layout: `Name.json` is the resource `…/Name`. A file whose stem is also a directory (a registry
      // file `Base.1.5.0.json` next to `Base.1.5.0/`) is served under its literal name, as its Location says.
      const stem = name.slice(0, -".json".length);
      const path = existsSync(join(dir, stem)) ? `${uri}/${name}` : `${uri}/${stem}`;
      out.set(path, { kind: "json", body: readJson(full) });
    }
  }
}

/**
 * Reads a captured tree in the DMTF mockup layout, once per process (cached by directory): tall
 * (`dir/index.json` per resource), short (`Name.json` files), with or without the `redfish/v1` nesting
 * (BlueField). The tree root `…/redfish/v1` is the service root; `$metadata/index.xml` is the CSDL document.
 */
export function loadCaptureTree(dir: string): CaptureTree {
  const hit = cache.get(dir);
  if (hit) return hit;
  const resources = new Map<string, CapturedResource>();
  const nested = join(dir, "redfish", "v1");
  if (existsSync(nested)) {
    const redfishIndex = join(dir, "redfish", "index.json");
    if (existsSync(redfishIndex)) {
      resources.set("/redfish", { kind: "json", body: readJson(redfishIndex) });
    }
    walk(nested, "/redfish/v1", resources, true);
  } else {
    walk(dir, "/redfish/v1", resources, true);
  }
  if (!resources.has("/redfish/v1")) throw new Error(`capture ${dir}: no service root (index.json) found`);
  const tree: CaptureTree = { dir, resources };
  cache.set(dir, tree);
  return tree;
}
