import { createReadStream, readdirSync, readFileSync, statSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { basename, join } from "node:path";
import type { ImageFileInfo } from "../contracts";
import { describeImage } from "./catalog";

/** A running image server. */
export interface ImageServer {
  /** `http://127.0.0.1:<port>` (no trailing slash). */
  readonly baseUrl: string;
  /** Regular files currently in the directory, sorted by name, with digests. */
  files(): ImageFileInfo[];
  /** Writes `bytes` as `name` into the served directory and returns its description. */
  addImage(name: string, bytes: Buffer): Promise<ImageFileInfo>;
  /** GET requests served for `name` (200 responses), for tests and the dashboard. */
  hits(name: string): number;
  close(): Promise<void>;
}

/** Options of {@link startImageServer}. */
export interface ImageServerOptions {
  readonly dir: string;
  readonly host?: string;
  readonly port?: number;
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * Serves the regular files of `dir` over plain HTTP (GET and HEAD, `Content-Length`, 404 when missing,
 * 405 for other methods). Only flat names are served; no directory traversal.
 */
export async function startImageServer(opts: ImageServerOptions): Promise<ImageServer> {
  const host = opts.host ?? "127.0.0.1";
  const cache = new Map<string, { key: string; info: ImageFileInfo }>();
  const hitCount = new Map<string, number>();
  let baseUrl = "";

  const server = createServer((req, res) => {
    const name = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname.replace(/^\/+/, ""));
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { Allow: "GET, HEAD", "Content-Length": 0 });
      res.end();
      return;
    }
    let size = -1;
    if (NAME_RE.test(name)) {
      try {
        const st = statSync(join(opts.dir, name));
        if (st.isFile()) size = st.size;
      } catch {
        size = -1;
      }
    }
    if (size < 0) {
      const body = `not found: /${name}\n`;
      res.writeHead(404, { "Content-Type": "text/plain", "Content-Length": Buffer.byteLength(body) });
      res.end(req.method === "HEAD" ? undefined : body);
      return;
    }
    res.writeHead(200, { "Content-Type": "application/octet-stream", "Content-Length": size });
    if (req.method === "HEAD") {
      res.end();
      return;
    }
    hitCount.set(name, (hitCount.get(name) ?? 0) + 1);
    createReadStream(join(opts.dir, name)).pipe(res);
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  baseUrl = `http://${host.includes(":") ? `[${host}]` : host}:${addr.port}`;

  const info = (name: string): ImageFileInfo | undefined => {
    const path = join(opts.dir, name);
    const st = statSync(path);
    if (!st.isFile()) return undefined;
    const key = `${st.size}:${st.mtimeMs}`;
    const hit = cache.get(name);
    if (hit && hit.key === key) return hit.info;
    const described = describeImage(name, `${baseUrl}/${encodeURIComponent(name)}`, readFileSync(path));
    cache.set(name, { key, info: described });
    return described;
  };

  return {
    baseUrl,
    files() {
      return readdirSync(opts.dir)
        .filter((n) => NAME_RE.test(n))
        .sort()
        .map(info)
        .filter((i): i is ImageFileInfo => i !== undefined);
    },
    async addImage(name, bytes) {
      if (!NAME_RE.test(name) || basename(name) !== name) throw new Error(`addImage: bad file name ${name}`);
      await writeFile(join(opts.dir, name), bytes);
      const described = info(name);
      if (!described) throw new Error(`addImage: ${name} is not a regular file`);
      return described;
    },
    hits: (name) => hitCount.get(name) ?? 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
