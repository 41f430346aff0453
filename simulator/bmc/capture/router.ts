import { type Handler, type RouteDef, type RouteMatch, Router } from "../router";
import type { CapturedResource, CaptureTree } from "./load-tree";

const METHODS = ["GET", "PATCH", "POST", "DELETE"] as const;

/** The reply of a captured resource, as captured (a captured `@odata.etag` is served as the ETag, too). */
export function capturedReply(r: CapturedResource): ReturnType<Handler> {
  switch (r.kind) {
    case "json": {
      const tag = r.body["@odata.etag"];
      return { status: 200, body: r.body, ...(typeof tag === "string" ? { headers: { ETag: tag } } : {}) };
    }
    case "xml":
      return { status: 200, body: r.text, headers: { "Content-Type": "application/xml; charset=utf-8" } };
    case "raw":
      return { status: r.status, body: r.text, headers: { "Content-Type": "text/plain; charset=utf-8" } };
  }
}

/**
 * Three layers, merged per method: `overlay` (the state machine's handlers for the captured resources it owns),
 * the captured tree (GET of every other captured resource), and `live` (sessions, tasks and task monitors the
 * BMC creates at run time). The first layer that has a method wins.
 */
export class CaptureRouter extends Router {
  /** State-machine handlers of owned captured resources. */
  readonly overlay = new Router();
  /** Run-time resources (sessions, tasks). */
  readonly live = new Router();

  constructor(
    private readonly tree: CaptureTree,
    /** Paths readable without authentication. */
    private readonly publicPaths: ReadonlySet<string>,
  ) {
    super();
  }

  override match(path: string): RouteMatch | undefined {
    const o = this.overlay.match(path);
    const l = this.live.match(path);
    const c = this.tree.resources.get(path);
    if (!o && !l && !c) return undefined;
    const def: { -readonly [K in keyof RouteDef]: RouteDef[K] } = {};
    for (const m of METHODS) {
      const h: Handler | undefined =
        o?.def[m] ?? (m === "GET" && c ? () => capturedReply(c) : undefined) ?? l?.def[m];
      if (h) def[m] = h;
    }
    const pub = new Set([...(o?.def.public ?? []), ...(l?.def.public ?? [])]);
    if (this.publicPaths.has(path)) pub.add("GET");
    if (pub.size > 0) def.public = [...pub];
    if (o?.def.rawPostBytes !== undefined) def.rawPostBytes = o.def.rawPostBytes;
    return { def, params: { ...l?.params, ...o?.params } };
  }
}
