import { RedfishHttpError, type RedfishMessage } from "../errors/redfish-http-error";
import { KeyedMutex } from "../lifecycle/keyed-mutex";
import { withRetry } from "../lifecycle/retry";
import { type Logger, logger, redact, registerSecret } from "../log";
import { BUSY_MESSAGE_IDS, bmcWords, type Json, parseErrorBody } from "./messages";
import { forgetSession, recordSession, staleSessions } from "./session-registry";
import { tlsNotSpoken, tlsNotSpokenMessage, tlsPermanent, tlsVerifyCode, tlsVerifyMessage } from "./tls";
import { type PoolSettings, type RawResponse, sendRaw } from "./transport";

/** How the client authenticates: a Redfish session, HTTP Basic, or session with Basic fallback (`auto`). */
export type RedfishAuthMode = "session" | "basic" | "auto";

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

const bmcLocks = new KeyedMutex();

/**
 * Runs `fn` while holding the lock of the BMC at `endpoint`: two operations of this process never race on one
 * BMC (a boot override set by one and a reset by another would interleave badly).
 */
export function withBmcLock<T>(endpoint: string, fn: () => Promise<T>): Promise<T> {
  return bmcLocks.run(new URL(endpoint).origin, fn);
}

const retryAfterOf = new WeakMap<object, number>();

function parseJson(text: string): Json {
  if (!text) return {};
  try {
    const v = JSON.parse(text) as unknown;
    return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Json) : {};
  } catch {
    return {};
  }
}

/** Retry-After in ms (seconds or an HTTP date), or undefined. */
export function retryAfterMs(headers: Readonly<Record<string, string>>): number | undefined {
  const v = headers["retry-after"];
  if (!v) return undefined;
  const secs = Number(v);
  if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
  const at = Date.parse(v);
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : undefined;
}

function strongTag(tag: string): string {
  return tag.replace(/^W\//i, "");
}

/**
 * An error body's Redfish code and messages, with the BMC's own words where it gave no Redfish message text (a
 * plain-text or HTML body, or JSON without Message): they become the first message's text when the body has
 * message ids, else `words` stands alone (bounded, secrets redacted).
 */
function errorWords(body: Json, text: string): { code?: string; words?: string; messages: RedfishMessage[] } {
  const parsed = parseErrorBody(body);
  const words = parsed.messages.some((m) => m.message) ? undefined : bmcWords(text);
  const messages = words
    ? parsed.messages.map((m, i) => (i === 0 ? { ...m, message: redact(words) } : m))
    : parsed.messages;
  return {
    ...(parsed.code !== undefined ? { code: parsed.code } : {}),
    ...(words ? { words } : {}),
    messages,
  };
}

function networkCause(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as { code?: unknown }).code;
  if (err.name === "TimeoutError" || code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_BODY_TIMEOUT") {
    return `no answer within the request timeout (${err.message})`;
  }
  const cause = (err as { cause?: unknown }).cause;
  const inner = cause instanceof Error ? `: ${cause.message}` : "";
  return `${typeof code === "string" ? `${code} ` : ""}${err.message}${inner}`;
}

/**
 * A Redfish client for one BMC: sessions with Basic fallback (re-login once on 401, logout on close), ETag /
 * If-Match with the weak → strong → none fallback on 412, task monitors, bounded retries with backoff, typed
 * errors. Resource code talks to BMCs only through this class.
 */
export class RedfishClient {
  /** BMC origin (`https://host:port`), used in messages and as the lock key. */
  readonly origin: string;
  /** Requests sent (including retries, logins, logouts), by method; benchmarks read it. */
  readonly requests: Record<string, number> = {};
  private readonly opts: RedfishClientOptions;
  private readonly pool: PoolSettings;
  private readonly log: Logger;
  private readonly etags = new Map<string, string>();
  private mode: "session" | "basic" | undefined;
  private token: string | undefined;
  private sessionUri: string | undefined;
  /** The session registry record of the open session (see session-registry.ts). */
  private sessionFile: string | undefined;
  private sessionsPath = "/redfish/v1/SessionService/Sessions";
  /** Whether the service root links a SessionService (undefined until the root was read). */
  private rootLinksSessions: boolean | undefined;
  /** HTTP status of a refused session login after which `auto` fell back to Basic. */
  private sessionRefusedWith: number | undefined;
  /** Basic was refused (401) in `auto` mode: a session login is the last try. */
  private basicRefused = false;

  constructor(opts: RedfishClientOptions) {
    this.opts = opts;
    this.origin = new URL(opts.endpoint).origin;
    registerSecret(opts.password);
    this.pool = {
      origin: this.origin,
      ...(opts.caCert !== undefined ? { caCert: opts.caCert } : {}),
      ...(opts.insecureSkipVerify !== undefined ? { insecureSkipVerify: opts.insecureSkipVerify } : {}),
      ...(opts.maxConnections !== undefined ? { maxConnections: opts.maxConnections } : {}),
      connectTimeoutMs: Math.min(10_000, opts.requestTimeoutMs ?? 30_000),
    };
    this.log = opts.log ?? logger(`redfish ${this.origin}`);
  }

  /** Total requests sent so far. */
  get requestCount(): number {
    return Object.values(this.requests).reduce((a, b) => a + b, 0);
  }

  /** The authentication in use once decided (`session` or `basic`), else undefined. */
  get authInUse(): "session" | "basic" | undefined {
    return this.mode;
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
  async patch(path: string, body: Json, opts: PatchOptions): Promise<RedfishResponse> {
    const first = opts.etag ?? this.etags.get(this.toPath(path));
    const forms: (string | undefined)[] = [];
    if (first) forms.push(first);
    if (first && strongTag(first) !== first) forms.push(strongTag(first));
    forms.push(undefined);
    const tried = new Set<string | undefined>();
    let lastErr: unknown;
    const attempt = async (tag: string | undefined): Promise<RedfishResponse | undefined> => {
      tried.add(tag);
      try {
        return await this.request("PATCH", path, body, {
          ...opts,
          headers: { ...opts.headers, ...(tag ? { "If-Match": tag } : {}) },
        });
      } catch (err) {
        const status = err instanceof RedfishHttpError ? err.status : 0;
        if (status !== 412 && status !== 428) throw err;
        lastErr = err;
        this.log.debug(
          `PATCH ${path}: HTTP ${status} with If-Match ${tag ?? "(none)"}, trying the next form`,
        );
        return undefined;
      }
    };
    for (const tag of forms) {
      const res = await attempt(tag);
      if (res) return res;
    }
    const fresh = (await this.get(path, { action: opts.action })).etag;
    if (fresh && !tried.has(fresh)) {
      const res = await attempt(fresh);
      if (res) return res;
    }
    throw lastErr;
  }

  /** Ends the session (DELETE of the session URI), if one was opened. Never throws. */
  async close(): Promise<void> {
    const uri = this.sessionUri;
    const token = this.token;
    const file = this.sessionFile;
    this.sessionUri = undefined;
    this.token = undefined;
    this.sessionFile = undefined;
    if (this.mode === "session") this.mode = undefined;
    if (!uri || !token) return;
    try {
      const res = await this.send("DELETE", uri, undefined, { "X-Auth-Token": token });
      if (res.status >= 400 && res.status !== 404 && res.status !== 401) {
        // Still open on the BMC: the record stays, and a later run deletes the session once this process ended.
        this.log.debug(`logout from ${uri} answered HTTP ${res.status}`);
        return;
      }
      forgetSession(file);
    } catch (err) {
      this.log.debug(`logout failed: ${this.networkCause(err)}`);
    }
  }

  /**
   * Deletes the sessions a provider process that no longer runs opened on this BMC as this user (killed before
   * it could log out), authenticated with `auth`. Records of sessions already gone are dropped; a refusal
   * (401/403) or a network error keeps the record for the next attempt. Never throws.
   */
  private async reapStale(auth: Record<string, string>): Promise<void> {
    const stale = staleSessions(this.origin, this.opts.username).slice(0, 32);
    for (const s of stale) {
      try {
        const res = await this.send("DELETE", s.uri, undefined, auth);
        if (res.status < 300 || res.status === 404) {
          forgetSession(s.file);
          if (res.status < 300) {
            this.log.info(
              `deleted session ${s.uri} left open by provider process ${s.pid}, which no longer runs`,
            );
          }
        }
      } catch (err) {
        this.log.debug(`could not delete stale session ${s.uri}: ${this.networkCause(err)}`);
        return;
      }
    }
  }

  /** The cause of a failed exchange; a refused certificate is explained with the settings that decide it. */
  private networkCause(err: unknown): string {
    const tls = tlsVerifyCode(err);
    if (tls) return tlsVerifyMessage(tls, this.origin, this.opts.caCert !== undefined);
    if (tlsNotSpoken(err)) return tlsNotSpokenMessage(this.origin);
    return networkCause(err);
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

  private async send(
    method: string,
    path: string,
    body: Json | undefined,
    auth: Record<string, string>,
    extra?: Record<string, string>,
  ): Promise<RawResponse> {
    this.requests[method] = (this.requests[method] ?? 0) + 1;
    const headers: Record<string, string> = {
      Accept: "application/json",
      "OData-Version": "4.0",
      "Accept-Encoding": "identity",
      ...auth,
      ...extra,
    };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    return sendRaw(this.pool, {
      method,
      path: this.toPath(path),
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      timeoutMs: this.opts.requestTimeoutMs ?? 30_000,
    });
  }

  private basicHeader(): Record<string, string> {
    const raw = `${this.opts.username}:${this.opts.password}`;
    return { Authorization: `Basic ${Buffer.from(raw).toString("base64")}` };
  }

  /** Opens a session; returns false (auto mode) when the BMC refuses sessions so Basic is used instead. */
  private async login(): Promise<void> {
    const want = this.opts.auth ?? "auto";
    if (want === "basic") {
      this.mode = "basic";
      return;
    }
    // Sessions a killed provider left behind count against the BMC's limit: end them before opening another.
    if (this.opts.auth !== "session") await this.reapStale(this.basicHeader());
    let res: RawResponse;
    try {
      res = await withRetry(
        () =>
          this.send(
            "POST",
            this.sessionsPath,
            { UserName: this.opts.username, Password: this.opts.password },
            {},
          ),
        {
          attempts: this.opts.retryAttempts ?? 5,
          minDelayMs: this.opts.retryBaseDelayMs ?? 500,
          maxDelayMs: this.opts.retryMaxDelayMs ?? 10_000,
          retryOn: (err) => !tlsPermanent(err),
        },
      );
    } catch (err) {
      throw new RedfishHttpError({
        action: "log in",
        bmc: this.origin,
        method: "POST",
        path: this.sessionsPath,
        status: 0,
        detail: redact(this.networkCause(err)),
        ...(tlsPermanent(err) ? { retryable: false } : {}),
        cause: err,
      });
    }
    const body = parseJson(res.text);
    const token = res.headers["x-auth-token"];
    if (res.status < 300 && token) {
      this.token = token;
      const loc =
        res.headers.location ?? (typeof body["@odata.id"] === "string" ? body["@odata.id"] : undefined);
      this.sessionUri = loc ? this.toPath(loc) : undefined;
      this.mode = "session";
      this.log.debug(`session opened (${this.sessionUri ?? "no session URI returned"})`);
      if (this.sessionUri) {
        this.sessionFile = recordSession(this.origin, this.opts.username, this.sessionUri);
        // What Basic could not delete (Basic disabled, or `auth: session`), the new session can.
        await this.reapStale({ "X-Auth-Token": token });
      }
      return;
    }
    const refusal = [401, 403, 404, 405].includes(res.status);
    if (want === "session" || (refusal && this.basicRefused)) {
      // The BMC's own words when it gave no Redfish message text (an HTML 500 page, a plain-text refusal).
      const { code, words, messages } = errorWords(body, res.text);
      const said = words && messages.length === 0 ? `; the BMC said: ${redact(words)}` : "";
      // Only a 401 or 403 is about the credentials: a 500, a 503 or a session limit is not.
      const credentials = res.status === 401 || res.status === 403;
      throw new RedfishHttpError({
        action: "log in",
        bmc: this.origin,
        method: "POST",
        path: this.sessionsPath,
        status: res.status,
        ...(code !== undefined ? { redfishCode: code } : {}),
        messages,
        detail:
          res.status < 300
            ? "no X-Auth-Token in the session response"
            : (res.status === 404 || res.status === 405) && !this.basicRefused
              ? `the BMC offers no session login at ${this.sessionsPath} (${this.schemesTried("session")}); set bmc.auth to auto or basic${said}`
              : credentials
                ? `the BMC refused the login (${this.schemesTried("session")}); check bmc.username / bmc.password${said}`
                : `the session login failed (${this.schemesTried("session")})${said}`,
        retryable: false,
      });
    }
    this.log.debug(`session login answered HTTP ${res.status}; falling back to Basic authentication`);
    if (refusal) this.sessionRefusedWith = res.status;
    this.mode = "basic";
  }

  /** The authentication schemes tried so far, for error messages ("session login, then HTTP Basic"). */
  private schemesTried(now: "session" | "basic"): string {
    const want = this.opts.auth ?? "auto";
    if (now === "session") {
      return this.basicRefused
        ? "tried HTTP Basic, then a session login"
        : `tried a session login${want === "session" ? " (bmc.auth session)" : ""}`;
    }
    if (this.sessionRefusedWith !== undefined)
      return `tried a session login (HTTP ${this.sessionRefusedWith}), then HTTP Basic`;
    if (want === "auto" && this.rootLinksSessions === false)
      return "tried HTTP Basic: the service root links no SessionService";
    return `tried HTTP Basic${want === "basic" ? " (bmc.auth basic)" : ""}`;
  }

  private async authHeaders(): Promise<Record<string, string>> {
    if (this.mode === undefined) {
      const want = this.opts.auth ?? "auto";
      if (
        want === "basic" ||
        (want === "auto" && (this.preferBasicNow() || this.rootLinksSessions === false))
      ) {
        this.mode = "basic";
      } else {
        await this.login();
      }
    }
    if (this.mode === "session" && this.token) return { "X-Auth-Token": this.token };
    return this.basicHeader();
  }

  /** One authenticated exchange; re-login once on 401 (expired session, or Basic refused in auto mode). */
  private async sendAuthed(
    method: string,
    path: string,
    body: Json | undefined,
    opts: RequestOptions,
  ): Promise<RawResponse> {
    if (opts.noAuth) return this.send(method, path, body, {}, opts.headers);
    const res = await this.send(method, path, body, await this.authHeaders(), opts.headers);
    if (res.status !== 401) return res;
    const auth = this.opts.auth ?? "auto";
    if (this.mode === "session") {
      this.log.info(`session on ${this.origin} expired or was ended; logging in again`);
      forgetSession(this.sessionFile);
      this.sessionFile = undefined;
      this.token = undefined;
      this.sessionUri = undefined;
      this.mode = undefined;
      await this.login();
    } else if (
      auth === "auto" &&
      this.sessionRefusedWith === undefined &&
      !this.basicRefused &&
      this.rootLinksSessions !== false
    ) {
      // Basic refused: a session login is the other scheme (at most once).
      this.log.debug("Basic authentication refused; opening a session");
      this.basicRefused = true;
      this.mode = undefined;
      await this.login();
      if (!this.token) return res;
    } else {
      return res;
    }
    return this.send(method, path, body, await this.authHeaders(), opts.headers);
  }

  /** With `auto`, whether reads start with Basic (cheap reads) before any session. */
  private preferBasicNow(): boolean {
    return this.opts.preferBasic === true && !this.basicRefused;
  }

  private toHttpError(
    method: string,
    path: string,
    res: RawResponse,
    opts: RequestOptions,
    body: Json,
  ): RedfishHttpError {
    const { code, words, messages } = errorWords(body, res.text);
    const busy = messages.some((m) =>
      BUSY_MESSAGE_IDS.some((id) => m.messageId === id || m.messageId.endsWith(`.${id}`)),
    );
    const scheme = this.mode === "session" ? "session" : "basic";
    const detail =
      res.status === 401
        ? `authentication failed (${this.schemesTried(scheme)}); check bmc.username / bmc.password${words && messages.length === 0 ? `. The BMC said: ${redact(words)}` : ""}`
        : words && messages.length === 0
          ? `the BMC said: ${redact(words)}`
          : res.status === 404
            ? "the resource does not exist on this BMC"
            : undefined;
    const err = new RedfishHttpError({
      action: opts.action,
      bmc: this.origin,
      method,
      path: this.toPath(path),
      status: res.status,
      ...(code !== undefined ? { redfishCode: code } : {}),
      messages,
      ...(detail !== undefined ? { detail } : {}),
      retryable: res.status >= 500 || busy,
    });
    const ra = retryAfterMs(res.headers);
    if (ra !== undefined) retryAfterOf.set(err, ra);
    return err;
  }

  /** Sends a request with retries; resolves on 2xx, rejects with a typed error otherwise. */
  private async request(
    method: string,
    path: string,
    body: Json | undefined,
    opts: RequestOptions,
  ): Promise<RedfishResponse> {
    const idempotent = opts.idempotent ?? method !== "POST";
    const maxDelay = this.opts.retryMaxDelayMs ?? 10_000;
    const res = await withRetry(
      async () => {
        let raw: RawResponse;
        try {
          raw = await this.sendAuthed(method, path, body, opts);
        } catch (err) {
          if (err instanceof RedfishHttpError) throw err;
          const refused = (err as { code?: unknown }).code === "ECONNREFUSED";
          // A refused certificate does not heal by retrying.
          const tls = tlsPermanent(err);
          throw new RedfishHttpError({
            action: opts.action,
            bmc: this.origin,
            method,
            path: this.toPath(path),
            status: 0,
            detail: redact(this.networkCause(err)),
            retryable: !tls && (idempotent || refused),
            cause: err,
          });
        }
        const parsed = parseJson(raw.text);
        if (raw.status >= 400) throw this.toHttpError(method, path, raw, opts, parsed);
        return { raw, parsed };
      },
      {
        attempts: this.opts.retryAttempts ?? 5,
        minDelayMs: this.opts.retryBaseDelayMs ?? 500,
        maxDelayMs: maxDelay,
        retryOn: (err) => {
          if (!(err instanceof RedfishHttpError)) return false;
          if (err.status === 0 && !err.retryable && tlsPermanent(err.cause)) return false;
          if (opts.conflictIsFinal && err.status === 409) return false;
          const busy = err.status === 503 || BUSY_MESSAGE_IDS.some((id) => err.hasMessage(id));
          const ok = busy || (idempotent && (err.status === 0 || err.status >= 500));
          if (!ok) return false;
          const ra = retryAfterOf.get(err);
          return ra !== undefined ? Math.min(ra, maxDelay) : true;
        },
        onRetry: (err, attempt, delay) => {
          this.log.info(
            `${err instanceof Error ? err.message : String(err)}; retry ${attempt} in ${delay} ms`,
          );
        },
      },
    );
    const etag =
      res.raw.headers.etag ??
      (typeof res.parsed["@odata.etag"] === "string" ? res.parsed["@odata.etag"] : undefined);
    if (method === "GET" && etag) this.etags.set(this.toPath(path), etag);
    if (method === "PATCH") this.etags.delete(this.toPath(path));
    return {
      status: res.raw.status,
      headers: res.raw.headers,
      body: res.parsed,
      ...(etag !== undefined ? { etag } : {}),
      text: res.raw.text,
    };
  }

  /** Sets where sessions are created (from the service root's `Links.Sessions`). */
  useSessionsPath(path: string): void {
    this.sessionsPath = this.toPath(path);
  }

  /**
   * Tells the client what the service root offers: with `auth: auto`, a root that links no SessionService
   * (neither `SessionService` nor `Links.Sessions`) is used with HTTP Basic, without a session login attempt.
   */
  /**
   * Records the ETag of a resource read inside another response (a member of an `$expand`ed collection), so a
   * PATCH of it sends If-Match as after a GET of it.
   */
  noteEtag(path: string, etag: string): void {
    this.etags.set(this.toPath(path), etag);
  }

  useServiceRoot(root: Json): void {
    const links = (root.Links ?? {}) as Json;
    this.rootLinksSessions = root.SessionService !== undefined || links.Sessions !== undefined;
    const sessions = links.Sessions as Json | undefined;
    if (sessions && typeof sessions["@odata.id"] === "string") this.useSessionsPath(sessions["@odata.id"]);
  }
}
