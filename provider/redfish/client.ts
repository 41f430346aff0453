import { RedfishHttpError } from "../errors/redfish-http-error";
import { type Logger, logger, registerSecret } from "../log";
import { RedfishAuth, type RedfishAuthMode } from "./auth";
import { EtagMemory, etagOf, patchIfMatch } from "./conditional";
import { httpError, networkCause, parseJson, type RequestSite, transportError } from "./error-mapping";
import type { Json } from "./messages";
import { noteRetryAfter, type RetryBudget, retryBudget, withRequestRetry } from "./retry";
import {
  type PoolSettings,
  type RawResponse,
  type RedfishLayer,
  type RedfishSend,
  undiciTransport,
} from "./transport";

export type { RedfishAuthMode } from "./auth";

/** Options of a {@link RedfishClient}. */
export interface RedfishClientOptions {
  /** BMC URL; only its origin is used (`https://10.0.0.5`). */
  readonly endpoint: string;
  readonly username: string;
  /** Secret: registered for redaction, only sent in the session login body or the Basic header. */
  readonly password: string;
  readonly caCert?: string;
  readonly insecureSkipVerify?: boolean;
  /** Default `auto`. */
  readonly auth?: RedfishAuthMode;
  /**
   * With `auth: auto`, start with Basic and only open a session if Basic is refused: no login/logout round
   * trips, and nothing left open on the BMC. Default false (a session when the service root links one).
   */
  readonly preferBasic?: boolean;
  /** Timeout of each request, ms. Default 30 000. */
  readonly requestTimeoutMs?: number;
  /** Attempts for a retryable request, including the first. Default 5. */
  readonly retryAttempts?: number;
  /** First backoff delay, ms (doubles up to {@link RedfishClientOptions.retryMaxDelayMs}). Default 500. */
  readonly retryBaseDelayMs?: number;
  /** Largest backoff delay (also caps Retry-After), ms. Default 10 000. */
  readonly retryMaxDelayMs?: number;
  /** Concurrent connections to this BMC. Default 4. */
  readonly maxConnections?: number;
  /**
   * Layers around the undici transport, outermost first (a {@link RequestCounter}'s `layer`, a recorder): each
   * sees every request put on the wire, logins, logouts and retries included. Default none.
   */
  readonly layers?: readonly RedfishLayer[];
  readonly log?: Logger;
}

/** A successful Redfish response. */
export interface RedfishResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** Parsed JSON body, `{}` when empty or not JSON. */
  readonly body: Json;
  /** ETag from the header or `@odata.etag`. */
  readonly etag?: string;
  /** The body as received (to quote a BMC that does not answer Redfish JSON). */
  readonly text?: string;
}

/** Per-request options. */
export interface RequestOptions {
  /** What is being done, for error messages ("insert virtual media"). */
  readonly action: string;
  /** May be repeated after a network error or 5xx (default: GET/PATCH/DELETE yes, POST no). */
  readonly idempotent?: boolean;
  /** Skip authentication (service root). */
  readonly noAuth?: boolean;
  /** Extra headers. */
  readonly headers?: Record<string, string>;
  /**
   * A 409 is final even when its message says busy (`ResourceInUse`): the caller reads the resource and decides
   * (an insert sent to a slot known from earlier: media may be in it). Default false (retried with backoff).
   */
  readonly conflictIsFinal?: boolean;
}

/** Options of a PATCH. */
export interface PatchOptions extends RequestOptions {
  /** ETag to send as If-Match (default: the last one seen on a GET of the same path). */
  readonly etag?: string;
}

/**
 * A Redfish client for one BMC, composed of layers, innermost first: the transport (undici, plus any injected
 * {@link RedfishClientOptions.layers}), the auth layer ({@link RedfishAuth}: Basic or sessions, re-login, the
 * `auto` fallback), error mapping (typed {@link RedfishHttpError}s), the retry layer ({@link withRequestRetry}:
 * Retry-After, budget, which methods repeat) and conditional requests ({@link patchIfMatch}: If-Match forms and
 * the re-read tag). Resource code talks to BMCs only through this class; the per-BMC operation lock is
 * `withBmcLock` (bmc-lock.ts), not part of the client.
 */
export class RedfishClient {
  /** BMC origin (`https://host:port`), used in messages and as the lock key. */
  readonly origin: string;
  private readonly opts: RedfishClientOptions;
  private readonly log: Logger;
  private readonly budget: RetryBudget;
  private readonly wire: RedfishSend;
  private readonly auth: RedfishAuth;
  private readonly etags = new EtagMemory();

  constructor(opts: RedfishClientOptions) {
    this.opts = opts;
    this.origin = new URL(opts.endpoint).origin;
    registerSecret(opts.password);
    const pool: PoolSettings = {
      origin: this.origin,
      ...(opts.caCert !== undefined ? { caCert: opts.caCert } : {}),
      ...(opts.insecureSkipVerify !== undefined ? { insecureSkipVerify: opts.insecureSkipVerify } : {}),
      ...(opts.maxConnections !== undefined ? { maxConnections: opts.maxConnections } : {}),
      connectTimeoutMs: Math.min(10_000, opts.requestTimeoutMs ?? 30_000),
    };
    this.wire = (opts.layers ?? []).reduceRight<RedfishSend>(
      (next, layer) => layer(next),
      undiciTransport(pool),
    );
    this.log = opts.log ?? logger(`redfish ${this.origin}`);
    this.budget = retryBudget(opts);
    this.auth = new RedfishAuth({
      origin: this.origin,
      username: opts.username,
      password: opts.password,
      ...(opts.auth !== undefined ? { auth: opts.auth } : {}),
      ...(opts.preferBasic !== undefined ? { preferBasic: opts.preferBasic } : {}),
      budget: this.budget,
      log: this.log,
      send: (method, path, body, auth, extra) => this.send(method, path, body, auth, extra),
      toPath: (p) => this.toPath(p),
      networkCause: (err) => this.networkCause(err),
    });
  }

  /** The authentication in use once decided (`session` or `basic`), else undefined. */
  get authInUse(): "session" | "basic" | undefined {
    return this.auth.inUse;
  }

  /** GET a resource. */
  get(path: string, opts: RequestOptions): Promise<RedfishResponse> {
    return this.request("GET", path, undefined, opts);
  }

  /** POST (actions, collections). Non-idempotent unless `opts.idempotent`. A bodyless action sends `{}`. */
  post(path: string, body: Json | undefined, opts: RequestOptions): Promise<RedfishResponse> {
    return this.request("POST", path, body ?? {}, opts);
  }

  /** DELETE a resource. */
  delete(path: string, opts: RequestOptions): Promise<RedfishResponse> {
    return this.request("DELETE", path, undefined, opts);
  }

  /**
   * PATCH with If-Match. On 412 the tag is retried in strong form (if it was weak), then without If-Match, then
   * with a freshly read tag: BMCs differ in what they accept (sushy's fallback, plus a re-read for stale tags).
   */
  patch(path: string, body: Json, opts: PatchOptions): Promise<RedfishResponse> {
    return patchIfMatch({
      path,
      etag: opts.etag ?? this.etags.get(this.toPath(path)),
      send: (tag) =>
        this.request("PATCH", path, body, {
          ...opts,
          headers: { ...opts.headers, ...(tag ? { "If-Match": tag } : {}) },
        }),
      reread: async () => (await this.get(path, { action: opts.action })).etag,
      log: this.log,
    });
  }

  /** Ends the session (DELETE of the session URI), if one was opened. Never throws. */
  close(): Promise<void> {
    return this.auth.close();
  }

  /** Converts an absolute URL of this BMC (Location headers) to a path. */
  toPath(uriOrPath: string): string {
    if (uriOrPath.startsWith("/")) return uriOrPath;
    try {
      const u = new URL(uriOrPath);
      return `${u.pathname}${u.search}`;
    } catch {
      return `/${uriOrPath}`;
    }
  }

  /** Sets where sessions are created (from the service root's `Links.Sessions`). */
  useSessionsPath(path: string): void {
    this.auth.useSessionsPath(path);
  }

  /**
   * Records the ETag of a resource read inside another response (a member of an `$expand`ed collection), so a
   * PATCH of it sends If-Match as after a GET of it.
   */
  noteEtag(path: string, etag: string): void {
    this.etags.set(this.toPath(path), etag);
  }

  /**
   * Tells the client what the service root offers: with `auth: auto`, a root that links no SessionService
   * (neither `SessionService` nor `Links.Sessions`) is used with HTTP Basic, without a session login attempt.
   */
  useServiceRoot(root: Json): void {
    this.auth.useServiceRoot(root);
  }

  /** The cause of a failed exchange; a refused certificate is explained with the settings that decide it. */
  private networkCause(err: unknown): string {
    return networkCause(err, this.origin, this.opts.caCert !== undefined);
  }

  /** One exchange through the transport layers, with the Redfish headers and the given credentials. */
  private send(
    method: string,
    path: string,
    body: Json | undefined,
    auth: Record<string, string>,
    extra?: Record<string, string>,
  ): Promise<RawResponse> {
    const headers: Record<string, string> = {
      Accept: "application/json",
      "OData-Version": "4.0",
      "Accept-Encoding": "identity",
      ...auth,
      ...extra,
    };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    return this.wire({
      method,
      path: this.toPath(path),
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      timeoutMs: this.opts.requestTimeoutMs ?? 30_000,
    });
  }

  /** Sends a request with retries; resolves on 2xx, rejects with a typed error otherwise. */
  private async request(
    method: string,
    path: string,
    body: Json | undefined,
    opts: RequestOptions,
  ): Promise<RedfishResponse> {
    const idempotent = opts.idempotent ?? method !== "POST";
    const site: RequestSite = { action: opts.action, bmc: this.origin, method, path: this.toPath(path) };
    const res = await withRequestRetry(
      async () => {
        let raw: RawResponse;
        try {
          raw = opts.noAuth
            ? await this.send(method, path, body, {}, opts.headers)
            : await this.auth.send(method, path, body, opts.headers);
        } catch (err) {
          if (err instanceof RedfishHttpError) throw err;
          throw transportError(site, err, this.networkCause(err), idempotent);
        }
        const parsed = parseJson(raw.text);
        if (raw.status >= 400) {
          throw noteRetryAfter(httpError(site, raw, parsed, this.auth.schemesTried()), raw.headers);
        }
        return { raw, parsed };
      },
      {
        idempotent,
        ...(opts.conflictIsFinal !== undefined ? { conflictIsFinal: opts.conflictIsFinal } : {}),
        budget: this.budget,
        log: this.log,
      },
    );
    const etag = etagOf(res.raw.headers, res.parsed);
    this.etags.afterExchange(method, this.toPath(path), etag);
    return {
      status: res.raw.status,
      headers: res.raw.headers,
      body: res.parsed,
      ...(etag !== undefined ? { etag } : {}),
      text: res.raw.text,
    };
  }
}
