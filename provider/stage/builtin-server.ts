import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { request } from "undici";
import type { Logger } from "../log";
import { type StageContent, StageError, streamParts } from "./content";
import type { BuiltinStageSpec } from "./stage.schema";
import { contentStage, type ImageStage } from "./types";

/** Parses a single `Range: bytes=a-b` (or `a-`, `-n`) against `size`; undefined = whole, null = unsatisfiable. */
function parseRange(header: string | undefined, size: number): [number, number] | undefined | null {
  if (header === undefined) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === "" && m[2] === "")) return undefined;
  let start: number;
  let end: number;
  if (m[1] === "") {
    start = Math.max(size - Number(m[2]), 0);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start > end || start >= size) return null;
  return [start, end];
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

/**
 * Starts the built-in stage: an HTTP server on `listenAddress:port` serving only the objects published to it
 * (GET and HEAD, single byte ranges for virtual-media readers), for as long as the install runs. Before it is
 * returned, the provider fetches a one-time probe object through `advertiseUrl`: an advertised URL that does
 * not lead back to this server is an error now, before anything is sent to a BMC.
 */
export async function startBuiltinStage(spec: BuiltinStageSpec, log: Logger): Promise<ImageStage> {
  const objects = new Map<string, StageContent>();
  const probe = `probe-${randomBytes(16).toString("hex")}`;
  const base = spec.advertiseUrl.replace(/\/+$/, "");
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const key = decodeURIComponent((req.url ?? "/").split("?")[0]?.replace(/^\/+/, "") ?? "");
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { Allow: "GET, HEAD" }).end();
      return;
    }
    if (key === probe) {
      res.writeHead(204).end();
      return;
    }
    const content = objects.get(key);
    if (content === undefined) {
      res.writeHead(404).end();
      return;
    }
    const range = parseRange(req.headers.range, content.size);
    if (range === null) {
      res.writeHead(416, { "Content-Range": `bytes */${content.size}` }).end();
      return;
    }
    const [start, end] = range ?? [0, content.size - 1];
    const headers: Record<string, string> = {
      "Content-Type": "application/octet-stream",
      "Content-Length": String(Math.max(end - start + 1, 0)),
      "Accept-Ranges": "bytes",
      ETag: `"${content.sha256}"`,
    };
    if (range !== undefined) headers["Content-Range"] = `bytes ${start}-${end}/${content.size}`;
    res.writeHead(range === undefined ? 200 : 206, headers);
    if (req.method === "HEAD" || content.size === 0) {
      res.end();
      return;
    }
    log.debug(`stage: ${req.socket.remoteAddress ?? "?"} fetches ${key} (${start}-${end})`);
    const body = streamParts(content, start, end);
    body.on("error", (err) => res.destroy(err));
    body.pipe(res);
  };
  const server = createServer(handler);
  const where = `the built-in image stage (listening on ${spec.listenAddress}:${spec.port}, advertised as ${base})`;
  try {
    await listen(server, spec.port, spec.listenAddress);
  } catch (err) {
    throw new StageError(`start ${where}: ${(err as Error).message}`, { cause: err });
  }
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    objects.clear();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  };
  try {
    const res = await request(`${base}/${probe}`, {
      method: "HEAD",
      headersTimeout: 5_000,
      bodyTimeout: 5_000,
    });
    await res.body.dump();
    if (res.statusCode !== 204) throw new Error(`HTTP ${res.statusCode} from another server`);
  } catch (err) {
    await close();
    throw new StageError(
      `check ${where}: the advertised URL does not reach it (${(err as Error).message}); nothing was sent to the BMC`,
      { cause: err },
    );
  }
  log.info(`image stage: serving on ${spec.listenAddress}:${spec.port} as ${base}`);
  return contentStage(
    base,
    async (key, content) => {
      objects.set(key, content);
      return `${base}/${key}`;
    },
    close,
  );
}
