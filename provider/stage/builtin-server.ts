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

/** One HTTP server per (listen address, port) in this provider process, shared by every install using it. */
interface SharedServer {
  readonly server: Server;
  /** Published objects by content-addressed key, with how many open installs published each. */
  readonly objects: Map<string, { content: StageContent; refs: number }>;
  /** One-time probe keys of installs checking their advertised URL. */
  readonly probes: Set<string>;
  /** Open installs (and installs still starting) using this server. */
  users: number;
  /** Settles once the server listens (or failed to). */
  readonly ready: Promise<void>;
}

const servers = new Map<string, SharedServer>();
/** Servers being closed, by address: a new install on that address waits until the port is released. */
const closing = new Map<string, Promise<void>>();

function serve(shared: Pick<SharedServer, "objects" | "probes">, log: Logger) {
  return (req: IncomingMessage, res: ServerResponse) => {
    const key = decodeURIComponent((req.url ?? "/").split("?")[0]?.replace(/^\/+/, "") ?? "");
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { Allow: "GET, HEAD" }).end();
      return;
    }
    if (shared.probes.has(key)) {
      res.writeHead(204).end();
      return;
    }
    const content = shared.objects.get(key)?.content;
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
}

/** Takes a use of the shared server for `spec`'s address, starting it (or waiting for it) as needed. */
async function acquire(
  spec: BuiltinStageSpec,
  log: Logger,
): Promise<{ shared: SharedServer; release(): Promise<void> }> {
  const address = `${spec.listenAddress}:${spec.port}`;
  let shared = servers.get(address);
  if (shared === undefined) {
    await closing.get(address);
    shared = servers.get(address);
  }
  if (shared === undefined) {
    const objects = new Map<string, { content: StageContent; refs: number }>();
    const probes = new Set<string>();
    const server = createServer(serve({ objects, probes }, log));
    const ready = listen(server, spec.port, spec.listenAddress);
    shared = { server, objects, probes, users: 0, ready };
    servers.set(address, shared);
    ready.then(
      () => log.info(`image stage: serving on ${address}`),
      () => servers.delete(address),
    );
  }
  const s = shared;
  s.users++;
  let released = false;
  const release = async (): Promise<void> => {
    if (released) return;
    released = true;
    if (--s.users > 0 || servers.get(address) !== s) return;
    servers.delete(address);
    s.objects.clear();
    const closed = new Promise<void>((resolve) => {
      s.server.close(() => resolve());
      s.server.closeAllConnections();
    });
    closing.set(address, closed);
    await closed;
    if (closing.get(address) === closed) closing.delete(address);
    log.info(`image stage: stopped serving on ${address}`);
  };
  try {
    await s.ready;
  } catch (err) {
    released = true;
    s.users--;
    throw err;
  }
  return { shared: s, release };
}

/**
 * Opens the built-in stage: an HTTP server on `listenAddress:port` serving only the objects published to it
 * (GET and HEAD, single byte ranges for virtual-media readers). The server is shared by every install of this
 * provider process on the same address and port (DPUs of one fleet installing at the same time with one
 * declared stage): each install adds its objects, content addressed by sha256, removes them when it closes,
 * and the last install to close stops the server. Before it is returned, the provider fetches a one-time probe
 * object through `advertiseUrl`: an advertised URL that does not lead back to this server, or a port held by
 * another process, is an error now, before anything is sent to a BMC.
 */
export async function startBuiltinStage(spec: BuiltinStageSpec, log: Logger): Promise<ImageStage> {
  const base = spec.advertiseUrl.replace(/\/+$/, "");
  const where = `the built-in image stage (listening on ${spec.listenAddress}:${spec.port}, advertised as ${base})`;
  let use: Awaited<ReturnType<typeof acquire>>;
  try {
    use = await acquire(spec, log);
  } catch (err) {
    throw new StageError(`start ${where}: ${(err as Error).message}`, { cause: err });
  }
  const { shared } = use;
  const mine = new Set<string>();
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    for (const key of mine) {
      const entry = shared.objects.get(key);
      if (entry !== undefined && --entry.refs <= 0) shared.objects.delete(key);
    }
    mine.clear();
    await use.release();
  };
  const probe = `probe-${randomBytes(16).toString("hex")}`;
  shared.probes.add(probe);
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
  } finally {
    shared.probes.delete(probe);
  }
  log.info(`image stage: install uses ${spec.listenAddress}:${spec.port} as ${base}`);
  return contentStage(
    base,
    async (key, content) => {
      if (!mine.has(key)) {
        const entry = shared.objects.get(key);
        if (entry === undefined) shared.objects.set(key, { content, refs: 1 });
        else entry.refs++;
        mine.add(key);
      }
      return `${base}/${key}`;
    },
    close,
  );
}

/** Addresses (`listenAddress:port`) the built-in stage is serving on in this process; for tests and diagnostics. */
export function builtinStageAddresses(): string[] {
  return [...servers.keys()];
}
