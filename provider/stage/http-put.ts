import { Agent, request } from "undici";
import { type Logger, publicUrl, redact, registerSecret } from "../log";
import { type StageContent, StageError, streamParts } from "./content";
import type { HttpPutStageSpec } from "./stage.schema";
import { contentStage, type ImageStage } from "./types";

function causeOf(err: unknown): string {
  const e = err as { message?: string; code?: string; cause?: { message?: string; code?: string } };
  return redact(e.cause?.message ?? e.cause?.code ?? e.message ?? e.code ?? String(err));
}

/**
 * An HTTP PUT upload target (WebDAV, nginx `dav_methods PUT DELETE`, an object store with PUT): objects are
 * uploaded as `<url>/<sha256>-<name>` with HTTP Basic credentials in a header (never in a URL or a message), the
 * BMC fetches them from `fetchUrl`, and `close()` deletes them.
 */
export function openHttpPutStage(spec: HttpPutStageSpec, log: Logger): ImageStage {
  registerSecret(spec.password);
  const base = spec.url.replace(/\/+$/, "");
  const fetchBase = (spec.fetchUrl ?? spec.url).replace(/\/+$/, "");
  const headers: Record<string, string> = {};
  if (spec.username !== undefined) {
    const basic = Buffer.from(`${spec.username}:${spec.password ?? ""}`).toString("base64");
    registerSecret(basic);
    headers.authorization = `Basic ${basic}`;
  }
  const dispatcher = new Agent({ connect: spec.caCert ? { ca: spec.caCert } : {} });
  const uploaded: string[] = [];
  const label = `image stage ${publicUrl(base)}`;
  const put = async (key: string, content: StageContent): Promise<string> => {
    const target = `${base}/${key}`;
    const res = await request(target, {
      method: "PUT",
      headers: {
        ...headers,
        "content-type": "application/octet-stream",
        "content-length": String(content.size),
      },
      body: streamParts(content),
      dispatcher,
      headersTimeout: 600_000,
      bodyTimeout: 600_000,
    }).catch((err: unknown) => {
      throw new StageError(`upload ${key} to ${label}: ${causeOf(err)}; nothing was sent to the BMC`, {
        cause: err,
        retryable: true,
      });
    });
    await res.body.dump();
    if (res.statusCode < 200 || res.statusCode > 299) {
      const hint = res.statusCode === 401 || res.statusCode === 403 ? " (check stage.username/password)" : "";
      throw new StageError(
        `upload ${key} to ${label}: HTTP ${res.statusCode}${hint}; nothing was sent to the BMC`,
        {
          retryable: res.statusCode >= 500,
        },
      );
    }
    uploaded.push(target);
    log.info(`image stage: uploaded ${key} (${content.size} bytes) to ${publicUrl(base)}`);
    return `${fetchBase}/${key}`;
  };
  const release = async (): Promise<void> => {
    const problems: string[] = [];
    for (const target of uploaded.splice(0)) {
      try {
        const res = await request(target, { method: "DELETE", headers, dispatcher, headersTimeout: 30_000 });
        await res.body.dump();
        if (res.statusCode >= 300 && res.statusCode !== 404)
          problems.push(`${publicUrl(target)}: HTTP ${res.statusCode}`);
      } catch (err) {
        problems.push(`${publicUrl(target)}: ${causeOf(err)}`);
      }
    }
    await dispatcher.close();
    if (problems.length > 0)
      throw new StageError(`remove staged objects from ${label}: ${problems.join("; ")}`);
  };
  return contentStage(label, put, release, (key) => {
    if (!uploaded.includes(`${base}/${key}`)) uploaded.push(`${base}/${key}`);
  });
}
