import { existsSync, readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { SHARED_MOCKUPS } from "./mockup-server";

/** What a handler answers: a status, a body (JSON value, or text sent as text/plain) and headers. */
export interface Reply {
  readonly status: number;
  readonly body?: unknown;
  readonly text?: string;
  readonly headers?: Record<string, string>;
}

/** Options of {@link serveEditedMockup}. */
export interface EditedMockupOptions {
  /** Edits of captured resources, by path: receive the captured body (or `{}`) and return what to serve. */
  readonly edits?: Record<string, (body: Record<string, unknown>) => Record<string, unknown>>;
  /** Handlers by `METHOD path`, tried before the tree. */
  readonly handlers?: Record<string, (req: IncomingMessage, body: string) => Reply>;
  /** Accepted `user:password` for Basic on GETs of the tree (default: no authentication). */
  readonly basic?: string;
}

/** A mockup served with edits. */
export interface EditedMockup {
  readonly url: string;
  /** `METHOD path` of every request, in order. */
  readonly log: string[];
  close(): Promise<void>;
}

/**
 * Serves a shared mockup (read at run time, never copied) over HTTP with per-resource edits and handlers:
 * enough to give a real captured tree one vendor's quirk (no session service, a plain-text error, …).
 */
export async function serveEditedMockup(name: string, opts: EditedMockupOptions = {}): Promise<EditedMockup> {
  const dir = join(SHARED_MOCKUPS, name);
  const nested = existsSync(join(dir, "redfish", "v1"));
  const log: string[] = [];
  const read = (path: string): Record<string, unknown> | undefined => {
    const rel = nested ? path : path.slice("/redfish/v1".length);
    const file = join(dir, rel, "index.json");
    return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>) : undefined;
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const path = new URL(req.url ?? "/", "http://x").pathname.replace(/\/+$/, "");
      const key = `${req.method} ${path}`;
      log.push(key);
      const send = (r: Reply) => {
        const text = r.text ?? (r.body === undefined ? "" : JSON.stringify(r.body));
        res.writeHead(r.status, {
          "Content-Type": r.text !== undefined ? "text/plain" : "application/json",
          ...r.headers,
        });
        res.end(text);
      };
      const handler = opts.handlers?.[key];
      if (handler) return send(handler(req, Buffer.concat(chunks).toString("utf8")));
      if (req.method !== "GET") return send({ status: 405, body: {} });
      if (opts.basic && path !== "/redfish/v1") {
        const want = `Basic ${Buffer.from(opts.basic).toString("base64")}`;
        if (req.headers.authorization !== want) return send({ status: 401, text: "Unauthorized" });
      }
      const edit = opts.edits?.[path];
      const body = read(path);
      if (!body && !edit) return send({ status: 404, body: {} });
      send({ status: 200, body: edit ? edit(body ?? {}) : body });
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    log,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
