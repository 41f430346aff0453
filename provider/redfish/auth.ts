import { isRedfishHttpError, RedfishHttpError } from "../errors/redfish-http-error";
import { type Logger, redact } from "../log";
import { errorWords, parseJson } from "./error-mapping";
import type { Json } from "./messages";
import { type RetryBudget, withLoginRetry } from "./retry";
import { forgetSession, recordSession, staleSessions } from "./session-registry";
import { tlsPermanent } from "./tls";
import type { RawResponse } from "./transport";

/** How the client authenticates: a Redfish session, HTTP Basic, or session with Basic fallback (`auto`). */
export type RedfishAuthMode = "session" | "basic" | "auto";

/** One exchange below the auth layer: `auth` holds the credentials headers this layer chose. */
export type WireSend = (
  method: string,
  path: string,
  body: Json | undefined,
  auth: Record<string, string>,
  extra?: Record<string, string>,
) => Promise<RawResponse>;

/** What the auth layer of one BMC needs. */
export interface AuthSettings {
  /** BMC origin, for messages and the session registry. */
  readonly origin: string;
  readonly username: string;
  /** Secret: only sent in the session login body or the Basic header. */
  readonly password: string;
  /** Default `auto`. */
  readonly auth?: RedfishAuthMode;
  /** With `auto`, start with Basic and open a session only when Basic is refused. */
  readonly preferBasic?: boolean;
  /** Retries of the login exchange. */
  readonly budget: RetryBudget;
  readonly log: Logger;
  /** The layer below (headers, transport). */
  readonly send: WireSend;
  /** A Location or `@odata.id` as a path on this BMC. */
  readonly toPath: (uriOrPath: string) => string;
  /** The cause of a failed exchange, for messages. */
  readonly networkCause: (err: unknown) => string;
}

/**
 * The authentication layer of the Redfish client for one BMC: HTTP Basic or a Redfish session (login, one
 * re-login on 401, logout on close), `auto` falling back from one to the other once, and the clean-up of
 * sessions a killed provider process left open (see session-registry.ts). It adds credentials to requests and
 * never retries or maps HTTP errors itself.
 */
export class RedfishAuth {
  private readonly s: AuthSettings;
  private mode: "session" | "basic" | undefined;
  private token: string | undefined;
  private sessionUri: string | undefined;
  /** The session registry record of the open session. */
  private sessionFile: string | undefined;
  private sessionsPath = "/redfish/v1/SessionService/Sessions";
  /** Whether the service root links a SessionService (undefined until the root was read). */
  private rootLinksSessions: boolean | undefined;
  /** HTTP status of a refused session login after which `auto` fell back to Basic. */
  private sessionRefusedWith: number | undefined;
  /** Basic was refused (401) in `auto` mode: a session login is the last try. */
  private basicRefused = false;

  constructor(settings: AuthSettings) {
    this.s = settings;
  }

  /** The authentication in use once decided (`session` or `basic`), else undefined. */
  get inUse(): "session" | "basic" | undefined {
    return this.mode;
  }

  /** Sets where sessions are created (from the service root's `Links.Sessions`). */
  useSessionsPath(path: string): void {
    this.sessionsPath = this.s.toPath(path);
  }

  /**
   * Tells the layer what the service root offers: with `auth: auto`, a root that links no SessionService
   * (neither `SessionService` nor `Links.Sessions`) is used with HTTP Basic, without a session login attempt.
   */
  useServiceRoot(root: Json): void {
    const links = (root.Links ?? {}) as Json;
    this.rootLinksSessions = root.SessionService !== undefined || links.Sessions !== undefined;
    const sessions = links.Sessions as Json | undefined;
    if (sessions && typeof sessions["@odata.id"] === "string") this.useSessionsPath(sessions["@odata.id"]);
  }

  /** The authentication schemes tried so far, for error messages ("session login, then HTTP Basic"). */
  schemesTried(now: "session" | "basic" = this.mode === "session" ? "session" : "basic"): string {
    const want = this.s.auth ?? "auto";
    if (now === "session") {
      return this.basicRefused
        ? "tried HTTP Basic, then a session login"
        : `tried a session login${want === "session" ? " (bmc.auth session)" : ""}`;
    }
    if (this.sessionRefusedWith !== undefined)
      return `tried a session login (HTTP ${this.sessionRefusedWith}), then HTTP Basic`;
    if (this.basicRefused) return "tried HTTP Basic, then a session login";
    if (want === "auto" && this.rootLinksSessions === false)
      return "tried HTTP Basic: the service root links no SessionService";
    return `tried HTTP Basic${want === "basic" ? " (bmc.auth basic)" : ""}`;
  }

  /** One authenticated exchange; re-login once on 401 (expired session, or Basic refused in auto mode). */
  async send(
    method: string,
    path: string,
    body: Json | undefined,
    extra: Record<string, string> | undefined,
  ): Promise<RawResponse> {
    const res = await this.s.send(method, path, body, await this.headers(), extra);
    if (res.status !== 401) return res;
    const auth = this.s.auth ?? "auto";
    if (this.mode === "session") {
      this.s.log.info(`session on ${this.s.origin} expired or was ended; logging in again`);
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
      this.s.log.debug("Basic authentication refused; opening a session");
      this.basicRefused = true;
      this.mode = undefined;
      try {
        await this.login();
      } catch (err) {
        // The session login was refused too (or the BMC has none: 404/405 from a URI the service root may not
        // even link): the error is Basic's refusal of this request, which names both schemes tried.
        if (isRedfishHttpError(err) && [401, 403, 404, 405].includes(err.status)) return res;
        throw err;
      }
      if (!this.token) return res;
    } else {
      return res;
    }
    return this.s.send(method, path, body, await this.headers(), extra);
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
      const res = await this.s.send("DELETE", uri, undefined, { "X-Auth-Token": token });
      if (res.status >= 400 && res.status !== 404 && res.status !== 401) {
        // Still open on the BMC: the record stays, and a later run deletes the session once this process ended.
        this.s.log.debug(`logout from ${uri} answered HTTP ${res.status}`);
        return;
      }
      forgetSession(file);
    } catch (err) {
      this.s.log.debug(`logout failed: ${this.s.networkCause(err)}`);
    }
  }

  private basicHeader(): Record<string, string> {
    const raw = `${this.s.username}:${this.s.password}`;
    return { Authorization: `Basic ${Buffer.from(raw).toString("base64")}` };
  }

  /** With `auto`, whether reads start with Basic (cheap reads) before any session. */
  private preferBasicNow(): boolean {
    return this.s.preferBasic === true && !this.basicRefused;
  }

  private async headers(): Promise<Record<string, string>> {
    if (this.mode === undefined) {
      const want = this.s.auth ?? "auto";
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

  /**
   * Deletes the sessions a provider process that no longer runs opened on this BMC as this user (killed before
   * it could log out), authenticated with `auth`. Records of sessions already gone are dropped; a refusal
   * (401/403) or a network error keeps the record for the next attempt. Never throws.
   */
  private async reapStale(auth: Record<string, string>): Promise<void> {
    const stale = staleSessions(this.s.origin, this.s.username).slice(0, 32);
    for (const st of stale) {
      try {
        const res = await this.s.send("DELETE", st.uri, undefined, auth);
        if (res.status < 300 || res.status === 404) {
          forgetSession(st.file);
          if (res.status < 300) {
            this.s.log.info(
              `deleted session ${st.uri} left open by provider process ${st.pid}, which no longer runs`,
            );
          }
        }
      } catch (err) {
        this.s.log.debug(`could not delete stale session ${st.uri}: ${this.s.networkCause(err)}`);
        return;
      }
    }
  }

  /** Opens a session; in `auto` mode a BMC that refuses sessions is used with Basic instead. */
  private async login(): Promise<void> {
    const want = this.s.auth ?? "auto";
    if (want === "basic") {
      this.mode = "basic";
      return;
    }
    // Sessions a killed provider left behind count against the BMC's limit: end them before opening another.
    if (this.s.auth !== "session") await this.reapStale(this.basicHeader());
    let res: RawResponse;
    try {
      res = await withLoginRetry(
        () =>
          this.s.send(
            "POST",
            this.sessionsPath,
            { UserName: this.s.username, Password: this.s.password },
            {},
          ),
        this.s.budget,
      );
    } catch (err) {
      throw new RedfishHttpError({
        action: "log in",
        bmc: this.s.origin,
        method: "POST",
        path: this.sessionsPath,
        status: 0,
        detail: redact(this.s.networkCause(err)),
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
      this.sessionUri = loc ? this.s.toPath(loc) : undefined;
      this.mode = "session";
      this.s.log.debug(`session opened (${this.sessionUri ?? "no session URI returned"})`);
      if (this.sessionUri) {
        this.sessionFile = recordSession(this.s.origin, this.s.username, this.sessionUri);
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
        bmc: this.s.origin,
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
    this.s.log.debug(`session login answered HTTP ${res.status}; falling back to Basic authentication`);
    if (refusal) this.sessionRefusedWith = res.status;
    this.mode = "basic";
  }
}
