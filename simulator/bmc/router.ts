import type { IncomingHttpHeaders } from "node:http";
import type { Principal } from "./auth";

/** What a handler sees of a request. */
export interface RequestCtx {
  readonly method: string;
  readonly path: string;
  readonly params: Readonly<Record<string, string>>;
  readonly headers: IncomingHttpHeaders;
  /** Parsed JSON body (`undefined` when empty, and for a route that takes its POST body raw). */
  readonly body: unknown;
  /** The request body as received, on a route with {@link RouteDef.rawPostBytes} (an image upload). */
  readonly raw?: Buffer;
  readonly principal?: Principal;
  /** PATCH only: the resource as GET shows it now (for writability checks). */
  readonly current?: Record<string, unknown>;
}

/** A handler's answer. */
export interface Reply {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/** A request handler. */
export type Handler = (ctx: RequestCtx) => Reply | Promise<Reply>;

/** Handlers of one URI pattern by method. */
export interface RouteDef {
  readonly GET?: Handler;
  readonly PATCH?: Handler;
  readonly POST?: Handler;
  readonly DELETE?: Handler;
  /** Methods reachable without authentication. */
  readonly public?: readonly string[];
  /** POST takes its body raw (not JSON) up to this many bytes: an image upload (UpdateService HttpPushUri). */
  readonly rawPostBytes?: number;
}

/** A matched route. */
export interface RouteMatch {
  readonly def: RouteDef;
  readonly params: Record<string, string>;
}

/** Minimal router over `/`-separated patterns with `:name` segments. */
export class Router {
  private readonly routes: { parts: string[]; def: RouteDef }[] = [];

  /** Registers a pattern such as `/redfish/v1/TaskService/Tasks/:id`. */
  add(pattern: string, def: RouteDef): this {
    this.routes.push({ parts: pattern.split("/").filter((p) => p !== ""), def });
    return this;
  }

  /** Finds the route of a normalised path. */
  match(path: string): RouteMatch | undefined {
    const segs = path.split("/").filter((p) => p !== "");
    for (const r of this.routes) {
      if (r.parts.length !== segs.length) continue;
      const params: Record<string, string> = {};
      let ok = true;
      for (let i = 0; i < segs.length && ok; i++) {
        const p = r.parts[i] as string;
        const s = segs[i] as string;
        if (p.startsWith(":")) params[p.slice(1)] = s;
        else ok = p === s;
      }
      if (ok) return { def: r.def, params };
    }
    return undefined;
  }
}

/** Methods a route implements (for 405 and `Allow`). */
export function allowedMethods(def: RouteDef): string[] {
  return (["GET", "PATCH", "POST", "DELETE"] as const).filter((m) => def[m] !== undefined);
}
