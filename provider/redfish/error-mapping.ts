import { RedfishHttpError, type RedfishMessage } from "../errors/redfish-http-error";
import { redact } from "../log";
import { BUSY_MESSAGE_IDS, bmcWords, type Json, parseErrorBody } from "./messages";
import { tlsNotSpoken, tlsNotSpokenMessage, tlsPermanent, tlsVerifyCode, tlsVerifyMessage } from "./tls";
import type { RawResponse } from "./transport";

/**
 * Error mapping of the Redfish client: what a BMC answered (a status and body) or how an exchange failed (a
 * network or TLS error) becomes a {@link RedfishHttpError} naming the action, the BMC, the request and the cause.
 * Nothing here sends a request or decides about retries.
 */

/** A response body as a JSON object: `{}` when empty, not JSON, or not an object. */
export function parseJson(text: string): Json {
  if (!text) return {};
  try {
    const v = JSON.parse(text) as unknown;
    return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Json) : {};
  } catch {
    return {};
  }
}

/**
 * An error body's Redfish code and messages, with the BMC's own words where it gave no Redfish message text (a
 * plain-text or HTML body, or JSON without Message): they become the first message's text when the body has
 * message ids, else `words` stands alone (bounded, secrets redacted).
 */
export function errorWords(
  body: Json,
  text: string,
): { code?: string; words?: string; messages: RedfishMessage[] } {
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

function plainNetworkCause(err: unknown): string {
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
 * The cause of a failed exchange with the BMC at `origin`; a refused certificate is explained with the settings
 * that decide it (`withCaCert`: a CA bundle was given), a peer that does not speak TLS says so.
 */
export function networkCause(err: unknown, origin: string, withCaCert: boolean): string {
  const tls = tlsVerifyCode(err);
  if (tls) return tlsVerifyMessage(tls, origin, withCaCert);
  if (tlsNotSpoken(err)) return tlsNotSpokenMessage(origin);
  return plainNetworkCause(err);
}

/** Where a failed request was going: for the error's message. */
export interface RequestSite {
  /** What is being done ("insert virtual media"). */
  readonly action: string;
  /** BMC origin. */
  readonly bmc: string;
  readonly method: string;
  /** Path on the BMC. */
  readonly path: string;
}

/**
 * The error of an exchange that got no HTTP answer. `mayRepeat`: the request may be sent again (idempotent, or
 * refused before it reached the BMC); a refused certificate is never retryable.
 */
export function transportError(
  site: RequestSite,
  err: unknown,
  cause: string,
  mayRepeat: boolean,
): RedfishHttpError {
  const refused = (err as { code?: unknown }).code === "ECONNREFUSED";
  const tls = tlsPermanent(err);
  return new RedfishHttpError({
    ...site,
    status: 0,
    detail: redact(cause),
    retryable: !tls && (mayRepeat || refused),
    cause: err,
  });
}

/**
 * The error of an HTTP error answer (≥ 400). `schemes` describes the authentication tried, for a 401 ("tried
 * HTTP Basic"). Retryable: 5xx, and a busy message (`ResourceInUse`, …) whatever the status.
 */
export function httpError(
  site: RequestSite,
  res: RawResponse,
  body: Json,
  schemes: string,
): RedfishHttpError {
  const { code, words, messages } = errorWords(body, res.text);
  const busy = messages.some((m) =>
    BUSY_MESSAGE_IDS.some((id) => m.messageId === id || m.messageId.endsWith(`.${id}`)),
  );
  const detail =
    res.status === 401
      ? `authentication failed (${schemes}); check bmc.username / bmc.password${words && messages.length === 0 ? `. The BMC said: ${redact(words)}` : ""}`
      : words && messages.length === 0
        ? `the BMC said: ${redact(words)}`
        : res.status === 404
          ? "the resource does not exist on this BMC"
          : undefined;
  return new RedfishHttpError({
    ...site,
    status: res.status,
    ...(code !== undefined ? { redfishCode: code } : {}),
    messages,
    ...(detail !== undefined ? { detail } : {}),
    retryable: res.status >= 500 || busy,
  });
}
