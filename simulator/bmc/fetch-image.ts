import { createHash } from "node:crypto";
import { get as httpGet } from "node:http";
import { get as httpsGet } from "node:https";
import type { BootImage } from "../contracts";
import { inspectImage } from "../images/inspect";
import { type MessageKey, message, type RedfishMessage } from "./errors";

/** Why fetching or identifying an image failed, as a Redfish message. */
export class ImageFetchError extends Error {
  constructor(
    readonly redfish: RedfishMessage,
    detail: string,
  ) {
    super(detail);
  }
}

function fail(key: MessageKey, url: string, detail: string): ImageFetchError {
  return new ImageFetchError(message(key, [url]), detail);
}

const MAX_IMAGE = 4 * 1024 * 1024 * 1024;

function download(
  url: URL,
  ca: string | undefined,
  timeoutMs: number,
  redirects: number,
  signal: AbortSignal | undefined,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const onResponse = (res: import("node:http").IncomingMessage) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location && redirects > 0) {
        res.resume();
        download(new URL(res.headers.location, url), ca, timeoutMs, redirects - 1, signal).then(
          resolve,
          reject,
        );
        return;
      }
      if (status !== 200) {
        res.resume();
        const key: MessageKey =
          status === 404
            ? "ResourceMissingAtURI"
            : status === 401 || status === 403
              ? "AccessDenied"
              : "CouldNotEstablishConnection";
        reject(fail(key, url.href, `HTTP ${status} from ${url.href}`));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (c: Buffer) => {
        size += c.length;
        if (size > MAX_IMAGE) res.destroy(new Error("image too large"));
        else chunks.push(c);
      });
      res.on("end", () => resolve(Buffer.concat(chunks)));
      res.on("error", (e) => reject(fail("CouldNotEstablishConnection", url.href, e.message)));
    };
    const req =
      url.protocol === "https:"
        ? httpsGet(url, { ca, timeout: timeoutMs, signal }, onResponse)
        : httpGet(url, { timeout: timeoutMs, signal }, onResponse);
    req.on("timeout", () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    req.on("error", (e) => reject(fail("CouldNotEstablishConnection", url.href, e.message)));
  });
}

/** An image as fetched: what the BMC measured, and the bytes themselves (a BFB's appended bf.cfg included). */
export interface FetchedImage {
  readonly image: BootImage;
  readonly bytes: Buffer;
}

/**
 * Fetches an image like a BMC streaming virtual media: HTTP or HTTPS (trusting `ca`), then measures
 * (sha256, size) and identifies it (ISO9660 label or BFB name). Rejects with {@link ImageFetchError};
 * `signal` aborts the transfer (BMC closing).
 */
export async function fetchBootImage(
  url: string,
  ca: string | undefined,
  signal?: AbortSignal,
  timeoutMs = 120_000,
): Promise<BootImage> {
  return (await fetchImage(url, ca, signal, timeoutMs)).image;
}

/** {@link fetchBootImage}, keeping the bytes: the whole file, whatever follows a BFB's payload included. */
export async function fetchImage(
  url: string,
  ca: string | undefined,
  signal?: AbortSignal,
  timeoutMs = 120_000,
): Promise<FetchedImage> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw fail("CouldNotEstablishConnection", url, `not a URL: ${url}`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw fail("CouldNotEstablishConnection", url, `unsupported scheme ${parsed.protocol}`);
  }
  return identifyImage(url, await download(parsed, ca, timeoutMs, 3, signal));
}

/**
 * Measures (sha256, size) and identifies (ISO9660 label or BFB name) image bytes received from `url` (fetched,
 * or pushed to an upload URI). Throws {@link ImageFetchError} `InvalidObject` for anything else.
 */
export function identifyImage(url: string, bytes: Buffer): FetchedImage {
  let id: ReturnType<typeof inspectImage>;
  try {
    id = inspectImage(bytes);
  } catch (e) {
    throw fail("InvalidObject", url, e instanceof Error ? e.message : String(e));
  }
  return {
    image: {
      url,
      sha256: createHash("sha256").update(bytes).digest("hex"),
      sizeBytes: bytes.length,
      kind: id.kind,
      label: id.label,
    },
    bytes,
  };
}
