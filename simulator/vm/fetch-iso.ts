import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { get as httpGet, type IncomingMessage } from "node:http";
import { get as httpsGet } from "node:https";

/**
 * Downloads `url` (HTTP, or HTTPS trusting `ca`) to `file` (written aside, renamed when complete) and returns
 * the sha256 of the bytes. Rejects when `expectSha256` is given and differs.
 */
export async function downloadFile(
  url: string,
  file: string,
  opts: { ca?: string; expectSha256?: string; timeoutMs?: number } = {},
): Promise<string> {
  const tmp = `${file}.part`;
  const hash = createHash("sha256");
  const fetchOnce = (u: URL, redirects: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const onResponse = (res: IncomingMessage): void => {
        const status = res.statusCode ?? 0;
        if (status >= 300 && status < 400 && res.headers.location && redirects > 0) {
          res.resume();
          fetchOnce(new URL(res.headers.location, u), redirects - 1).then(resolve, reject);
          return;
        }
        if (status !== 200) {
          res.resume();
          reject(new Error(`GET ${u.href}: HTTP ${status}`));
          return;
        }
        const out = createWriteStream(tmp, { mode: 0o644 });
        res.on("data", (c: Buffer) => hash.update(c));
        res.pipe(out);
        out.on("finish", () => resolve());
        out.on("error", reject);
        res.on("error", reject);
      };
      const timeout = opts.timeoutMs ?? 120_000;
      const req =
        u.protocol === "https:"
          ? httpsGet(u, { ca: opts.ca, timeout }, onResponse)
          : httpGet(u, { timeout }, onResponse);
      req.on("timeout", () => req.destroy(new Error(`GET ${u.href}: timeout after ${timeout} ms`)));
      req.on("error", reject);
    });
  try {
    await fetchOnce(new URL(url), 3);
    const sha = hash.digest("hex");
    if (opts.expectSha256 && sha !== opts.expectSha256) {
      throw new Error(`GET ${url}: sha256 ${sha} differs from the measured ${opts.expectSha256}`);
    }
    await rename(tmp, file);
    return sha;
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}
