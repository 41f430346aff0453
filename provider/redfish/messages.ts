import { DpuError } from "../errors/dpu-error";
import type { RedfishMessage } from "../errors/redfish-http-error";

/** A JSON object as BMCs return it. */
export type Json = Record<string, unknown>;

function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

/** Normalises one `@Message.ExtendedInfo` / Task `Messages` entry. */
export function toMessage(raw: unknown): RedfishMessage | undefined {
  if (raw === null || typeof raw !== "object") return undefined;
  const m = raw as Json;
  const messageId = str(m.MessageId) ?? "";
  const args = Array.isArray(m.MessageArgs)
    ? m.MessageArgs.map((a) => String(a)).filter((a) => a !== "")
    : [];
  // Some BMCs send only the MessageId and its arguments: the arguments are the BMC's own words then.
  const message = str(m.Message) ?? (args.length > 0 ? `arguments: ${args.join(", ")}` : "");
  if (!messageId && !message) return undefined;
  const related = Array.isArray(m.RelatedProperties)
    ? m.RelatedProperties.filter((p): p is string => typeof p === "string")
    : undefined;
  const resolution = str(m.Resolution);
  const severity = str(m.MessageSeverity) ?? str(m.Severity);
  return {
    messageId,
    message,
    ...(resolution !== undefined ? { resolution } : {}),
    ...(severity !== undefined ? { severity } : {}),
    ...(related && related.length > 0 ? { relatedProperties: related } : {}),
  };
}

/** Messages of a Redfish error envelope (`error.@Message.ExtendedInfo`, or top-level ExtendedInfo), plus `error.code`. */
export function parseErrorBody(body: unknown): { code?: string; messages: RedfishMessage[] } {
  if (body === null || typeof body !== "object") return { messages: [] };
  const b = body as Json;
  const err = (b.error !== null && typeof b.error === "object" ? b.error : undefined) as Json | undefined;
  const info = (err?.["@Message.ExtendedInfo"] ?? b["@Message.ExtendedInfo"]) as unknown;
  const messages = Array.isArray(info) ? info.map(toMessage).filter((m): m is RedfishMessage => !!m) : [];
  const code = str(err?.code);
  if (messages.length === 0 && err && (str(err.message) || code)) {
    messages.push({ messageId: code ?? "", message: str(err.message) ?? "" });
  }
  return { ...(code !== undefined ? { code } : {}), messages };
}

/** Longest excerpt of a BMC's error body kept in an error message. */
const WORDS_MAX = 300;

/**
 * The BMC's own words from an error body that has no usable Redfish message: a plain-text or HTML body
 * (`Failed to save HttpBootUri field value.`), or a JSON body without `Message` (compacted). Bounded to
 * {@link WORDS_MAX} characters, with values of password/token-like JSON keys removed; the caller still passes
 * the result through `redact`. Undefined for an empty body.
 */
export function bmcWords(text: string): string | undefined {
  const t = text.trim();
  if (t === "") return undefined;
  let out: string;
  try {
    const v = JSON.parse(t) as unknown;
    out = JSON.stringify(v, (k, val) =>
      /passw|token|secret|auth|credential/i.test(k) && typeof val === "string" ? "***" : val,
    );
  } catch {
    out = t
      .replace(/<[^>]*>/g, " ")
      .replace(/\s+/g, " ")
      .trim();
  }
  if (out === "" || out === "{}") return undefined;
  return out.length > WORDS_MAX ? `${out.slice(0, WORDS_MAX)}…` : out;
}

/** True when `messageId` ends with `.suffix` (registry versions differ between BMCs) or equals it. */
export function messageIdIs(messageId: string, suffix: string): boolean {
  return messageId === suffix || messageId.endsWith(`.${suffix}`);
}

/**
 * MessageIds meaning "busy, try again shortly" (DMTF Base, Dell iDRAC, HPE iLO). Requests refused with one of
 * these were not carried out, so even a non-idempotent action may be repeated.
 */
export const BUSY_MESSAGE_IDS = [
  "ServiceTemporarilyUnavailable",
  "ResourceInUse",
  "SessionLimitExceeded",
  "SYS518",
  "UnableToModifyDuringSystemPOST",
  "InvalidOperationForSystemState",
] as const;

/** A Redfish Task ended in Exception, Killed or Cancelled (or its monitor answered with an error). */
export class RedfishTaskError extends DpuError {
  readonly taskUri: string;
  readonly taskState: string;
  readonly messages: readonly RedfishMessage[];

  constructor(init: {
    action: string;
    bmc: string;
    taskUri: string;
    taskState: string;
    messages: readonly RedfishMessage[];
  }) {
    const why = init.messages
      .filter((m) => m.message)
      .map(
        (m) =>
          `${m.message}${m.messageId ? ` (${m.messageId})` : ""}${m.resolution ? `. BMC resolution: ${m.resolution}` : ""}`,
      )
      .join("; ");
    super(
      "DPU_REDFISH_TASK",
      `${init.action} on BMC ${init.bmc}: task ${init.taskUri} ended in state ${init.taskState}${why ? `: ${why}` : ""}`,
      { retryable: false },
    );
    this.name = "RedfishTaskError";
    this.taskUri = init.taskUri;
    this.taskState = init.taskState;
    this.messages = init.messages;
  }
}
