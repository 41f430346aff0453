import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { Agent, request } from "undici";
import { DpuError } from "../errors/dpu-error";
import { consumeBody } from "../http/consume-body";
import { publicUrl } from "../log";
import { tlsVerifyCode } from "./tls";

/** Options of {@link checkImage}. */
export interface ImageCheckOptions {
  /** Download the whole image and hash it (default: only check that it is reachable). */
  readonly measure: boolean;
  /** Expected sha256 (lower-case hex); a mismatch is an error. Implies `measure`. */
  readonly sha256?: string;
  readonly caCert?: string;
  readonly insecureSkipVerify?: boolean;
  /** Timeout of the whole check, ms. */
  readonly timeoutMs: number;
  /** Refuse images larger than this (default 64 GiB). */
  readonly maxBytes?: number;
  /** Also write the downloaded bytes to this local file (created 0600; implies `measure`). */
  readonly saveTo?: string;
}

/** What the check found. */
export interface ImageCheckResult {
  readonly sha256?: string;
  readonly sizeBytes?: number;
}

/**
 * Verifies an image URL before any hardware action: reachable (HEAD, falling back to GET), and when asked
 * streamed through sha256 (bounded in size, never buffered) and compared with the expected digest.
 */
export async function checkImage(url: string, opts: ImageCheckOptions): Promise<ImageCheckResult> {
  // Credentials in the URL (userinfo) go in an Authorization header; messages show the URL without them.
  const action = `verify image ${publicUrl(url)}`;
  const target = new URL(url);
  const headers: Record<string, string> = {};
  if (target.username || target.password) {
    const user = decodeURIComponent(target.username);
    const pass = decodeURIComponent(target.password);
    headers.authorization = `Basic ${Buffer.from(`${user}:${pass}`).toString("base64")}`;
    target.username = "";
    target.password = "";
  }
  const dispatcher = new Agent({
    connect: {
      rejectUnauthorized: !opts.insecureSkipVerify,
      ...(opts.caCert && !opts.insecureSkipVerify ? { ca: opts.caCert } : {}),
    },
  });
  const signal = AbortSignal.timeout(opts.timeoutMs);
  const measure = opts.measure || opts.sha256 !== undefined || opts.saveTo !== undefined;
  try {
    const res = await request(target, {
      method: measure ? "GET" : "HEAD",
      headers,
      dispatcher,
      signal,
      headersTimeout: opts.timeoutMs,
      bodyTimeout: opts.timeoutMs,
    }).catch((err: unknown) => {
      const e = err as { message?: string; cause?: { message?: string }; code?: string };
      const tls = tlsVerifyCode(err);
      if (tls) {
        throw new DpuError(
          "DPU_IMAGE_UNREACHABLE",
          `${action}: TLS verification of the image server failed (${tls}): set image.caCert (default: bmc.caCert) to the PEM of the CA that signed its certificate, or serve the image over plain http`,
          { retryable: false, cause: err },
        );
      }
      throw new DpuError(
        "DPU_IMAGE_UNREACHABLE",
        `${action}: cannot connect: ${e.code ?? ""} ${e.cause?.message ?? e.message ?? String(err)}`.trim(),
        {
          retryable: true,
          cause: err,
        },
      );
    });
    if (res.statusCode >= 400) {
      await res.body.dump();
      throw new DpuError(
        "DPU_IMAGE_UNREACHABLE",
        `${action}: the image server answered HTTP ${res.statusCode}; check image.url (nothing was changed on the DPU)`,
        { retryable: res.statusCode >= 500 },
      );
    }
    const lengthHeader = Number(res.headers["content-length"]);
    const sizeHeader = Number.isFinite(lengthHeader) ? lengthHeader : undefined;
    if (!measure) {
      await res.body.dump();
      return sizeHeader !== undefined ? { sizeBytes: sizeHeader } : {};
    }
    const max = opts.maxBytes ?? 64 * 1024 ** 3;
    const hash = createHash("sha256");
    let size = 0;
    const out = opts.saveTo === undefined ? undefined : createWriteStream(opts.saveTo, { mode: 0o600 });
    try {
      out?.once("error", (err) => res.body.destroy(err));
      await consumeBody(res.body, (chunk) => {
        size += chunk.length;
        if (size > max) throw new DpuError("DPU_IMAGE_TOO_LARGE", `${action}: larger than ${max} bytes`);
        hash.update(chunk);
        out?.write(chunk);
      });
    } finally {
      if (out !== undefined)
        await new Promise<void>((resolve, reject) =>
          out.end((e?: Error | null) => (e ? reject(e) : resolve())),
        );
    }
    const sha256 = hash.digest("hex");
    if (opts.sha256 !== undefined && sha256 !== opts.sha256) {
      throw new DpuError(
        "DPU_IMAGE_CHECKSUM",
        `${action}: sha256 mismatch: expected ${opts.sha256}, downloaded ${size} bytes with sha256 ${sha256}; nothing was changed on the DPU. Fix image.sha256 or the file on the server.`,
      );
    }
    return { sha256, sizeBytes: size };
  } finally {
    await dispatcher.close().catch(() => undefined);
  }
}
