import { RedfishHttpError } from "../errors/redfish-http-error";
import type { Logger } from "../log";
import type { Json } from "./messages";

/**
 * The conditional-request layer of the Redfish client: the ETag last seen for each resource, and the If-Match
 * forms a PATCH tries when a BMC answers 412/428 (sushy's weak → strong → none fallback, then a freshly read
 * tag for a stale one). It sends nothing itself: it is handed the PATCH and the re-read.
 */
export class EtagMemory {
  private readonly tags = new Map<string, string>();

  /** The tag last seen for `path`. */
  get(path: string): string | undefined {
    return this.tags.get(path);
  }

  /** Records a tag read for `path` (a GET, or a member of an `$expand`ed collection). */
  set(path: string, etag: string): void {
    this.tags.set(path, etag);
  }

  /** After a successful exchange: a GET's tag is kept, a PATCH makes the kept one stale. */
  afterExchange(method: string, path: string, etag: string | undefined): void {
    if (method === "GET" && etag) this.tags.set(path, etag);
    if (method === "PATCH") this.tags.delete(path);
  }
}

/** The ETag of an answer: the header, else the body's `@odata.etag`. */
export function etagOf(headers: Readonly<Record<string, string>>, body: Json): string | undefined {
  return headers.etag ?? (typeof body["@odata.etag"] === "string" ? body["@odata.etag"] : undefined);
}

function strongTag(tag: string): string {
  return tag.replace(/^W\//i, "");
}

/** What {@link patchIfMatch} is handed. */
export interface ConditionalPatch<R> {
  /** Path being patched (for messages). */
  readonly path: string;
  /** The tag to start with (the caller's, or the one kept from the last GET). */
  readonly etag: string | undefined;
  /** Sends the PATCH with If-Match `tag` (none when undefined). */
  readonly send: (tag: string | undefined) => Promise<R>;
  /** Reads the resource again and returns its current tag. */
  readonly reread: () => Promise<string | undefined>;
  readonly log: Logger;
}

/**
 * A PATCH with If-Match. On 412 (or 428) the tag is retried in strong form (if it was weak), then without
 * If-Match, then with a freshly read tag: BMCs differ in what they accept. Other errors end it at once; when
 * every form was refused the last 412/428 is thrown.
 */
export async function patchIfMatch<R>(p: ConditionalPatch<R>): Promise<R> {
  const first = p.etag;
  const forms: (string | undefined)[] = [];
  if (first) forms.push(first);
  if (first && strongTag(first) !== first) forms.push(strongTag(first));
  forms.push(undefined);
  const tried = new Set<string | undefined>();
  let lastErr: unknown;
  const attempt = async (tag: string | undefined): Promise<R | undefined> => {
    tried.add(tag);
    try {
      return await p.send(tag);
    } catch (err) {
      const status = err instanceof RedfishHttpError ? err.status : 0;
      if (status !== 412 && status !== 428) throw err;
      lastErr = err;
      p.log.debug(`PATCH ${p.path}: HTTP ${status} with If-Match ${tag ?? "(none)"}, trying the next form`);
      return undefined;
    }
  };
  for (const tag of forms) {
    const res = await attempt(tag);
    if (res) return res;
  }
  const fresh = await p.reread();
  if (fresh && !tried.has(fresh)) {
    const res = await attempt(fresh);
    if (res) return res;
  }
  throw lastErr;
}
