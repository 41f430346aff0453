import type { CapturedResource, CaptureTree } from "./load-tree";

type Json = Record<string, unknown>;

/** One edit of a captured tree, as data (quirk profiles are a base capture plus a list of these). */
export type TreeEdit =
  /** Sets a property (`pointer`: property names from the resource body down; objects created on the way). */
  | {
      readonly op: "set";
      readonly path: string;
      readonly pointer: readonly string[];
      readonly value: unknown;
    }
  /** Removes a property. */
  | { readonly op: "remove"; readonly path: string; readonly pointer: readonly string[] }
  /** Drops a resource and everything under it, and every link (`{"@odata.id": …}`) pointing into it. */
  | { readonly op: "drop"; readonly path: string }
  /** Renames a URI prefix everywhere: resource paths and every string value starting with it. */
  | { readonly op: "rename"; readonly from: string; readonly to: string }
  /** Copies a resource subtree to another prefix (its URIs rewritten), e.g. deprecated duplicate slots. */
  | { readonly op: "copy"; readonly from: string; readonly to: string }
  /** Adds a resource. */
  | { readonly op: "add"; readonly path: string; readonly body: Readonly<Json> };

function isRecord(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

const under = (p: string, prefix: string) => p === prefix || p.startsWith(`${prefix}/`);

function rewrite(v: unknown, from: string, to: string): unknown {
  if (typeof v === "string") return under(v.replace(/\/+$/, ""), from) ? to + v.slice(from.length) : v;
  if (Array.isArray(v)) return v.map((x) => rewrite(x, from, to));
  if (isRecord(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, rewrite(x, from, to)]));
  return v;
}

/** Removes links into `prefix`: link properties are deleted, link array members filtered out. */
function prune(v: unknown, prefix: string): unknown {
  const dead = (x: unknown) =>
    isRecord(x) && typeof x["@odata.id"] === "string" && under(x["@odata.id"].replace(/\/+$/, ""), prefix);
  if (Array.isArray(v)) return v.filter((x) => !dead(x)).map((x) => prune(x, prefix));
  if (!isRecord(v)) return v;
  const out: Json = {};
  for (const [k, x] of Object.entries(v)) {
    if (dead(x)) continue;
    out[k] = prune(x, prefix);
    if (Array.isArray(x) && Object.hasOwn(v, `${k}@odata.count`))
      out[`${k}@odata.count`] = (out[k] as []).length;
  }
  return out;
}

function mapJson(res: Map<string, CapturedResource>, f: (body: Json) => unknown): void {
  for (const [p, r] of res)
    if (r.kind === "json") res.set(p, { kind: "json", body: f(r.body as Json) as Json });
}

function deepFreeze<T>(v: T): T {
  if (typeof v === "object" && v !== null && !Object.isFrozen(v)) {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}

/** Applies `edits` in order to a copy of `tree` (the shared capture is not changed); the result is frozen. */
export function applyTreeEdits(tree: CaptureTree, edits: readonly TreeEdit[]): CaptureTree {
  const res = new Map<string, CapturedResource>();
  for (const [p, r] of tree.resources)
    res.set(p, r.kind === "json" ? { kind: "json", body: structuredClone(r.body) } : r);
  for (const e of edits) {
    switch (e.op) {
      case "set":
      case "remove": {
        const r = res.get(e.path);
        if (r?.kind !== "json") throw new Error(`tree edit ${e.op}: no JSON resource ${e.path}`);
        let o = r.body as Json;
        for (const k of e.pointer.slice(0, -1)) {
          if (!isRecord(o[k])) o[k] = {};
          o = o[k] as Json;
        }
        const last = e.pointer[e.pointer.length - 1] as string;
        if (e.op === "set") o[last] = structuredClone(e.value);
        else delete o[last];
        break;
      }
      case "drop":
        for (const p of [...res.keys()]) if (under(p, e.path)) res.delete(p);
        mapJson(res, (b) => prune(b, e.path));
        break;
      case "rename": {
        const moved = [...res].map(([p, r]): [string, CapturedResource] => [
          under(p, e.from) ? e.to + p.slice(e.from.length) : p,
          r,
        ]);
        res.clear();
        for (const [p, r] of moved) res.set(p, r);
        mapJson(res, (b) => rewrite(b, e.from, e.to));
        break;
      }
      case "copy":
        for (const [p, r] of [...res]) {
          if (!under(p, e.from) || r.kind !== "json") continue;
          res.set(e.to + p.slice(e.from.length), {
            kind: "json",
            body: rewrite(r.body, e.from, e.to) as Json,
          });
        }
        break;
      case "add":
        res.set(e.path, { kind: "json", body: structuredClone(e.body) as Json });
        break;
    }
  }
  for (const r of res.values()) deepFreeze(r);
  return { dir: tree.dir, resources: res };
}
