import { DpuError } from "./dpu-error";

/** One entry of a Redfish `@Message.ExtendedInfo` array, normalised. */
export interface RedfishMessage {
  readonly messageId: string;
  readonly message: string;
  readonly resolution?: string;
  readonly severity?: string;
  readonly relatedProperties?: readonly string[];
}

/**
 * A BMC answered a Redfish request with an error status (or an error body), or could not be reached.
 *
 * Carries what a user needs to act: HTTP status, the Redfish MessageId (e.g. `Base.1.22.PropertyValueNotInList`),
 * the BMC's message and resolution, and the related properties.
 */
export class RedfishHttpError extends DpuError {
  /** HTTP status, or 0 when no response was received. */
  readonly status: number;
  readonly method: string;
  /** Request path on the BMC, e.g. `/redfish/v1/Systems/1`. */
  readonly path: string;
  /** BMC origin, e.g. `https://10.0.0.5`. */
  readonly bmc: string;
  /** `error.code` of the body, if any. */
  readonly redfishCode?: string;
  readonly messages: readonly RedfishMessage[];

  constructor(init: {
    action: string;
    bmc: string;
    method: string;
    path: string;
    status: number;
    redfishCode?: string;
    messages?: readonly RedfishMessage[];
    detail?: string;
    retryable?: boolean;
    cause?: unknown;
  }) {
    const first = init.messages?.[0];
    // The BMC's words first; a detail of ours (what to check) follows them.
    const why = first
      ? `${first.message}${first.messageId ? ` (${first.messageId})` : ""}${first.resolution ? `. BMC resolution: ${first.resolution}` : ""}${init.detail ? `; ${init.detail}` : ""}`
      : (init.detail ?? "no details in the response");
    const status = init.status === 0 ? "no response" : `HTTP ${init.status}`;
    super(
      "DPU_REDFISH_HTTP",
      `${init.action} on BMC ${init.bmc}: ${init.method} ${init.path} failed, ${status}: ${why}`,
      {
        cause: init.cause,
        retryable: init.retryable ?? (init.status === 0 || init.status >= 500),
      },
    );
    this.name = "RedfishHttpError";
    this.status = init.status;
    this.method = init.method;
    this.path = init.path;
    this.bmc = init.bmc;
    if (init.redfishCode !== undefined) this.redfishCode = init.redfishCode;
    this.messages = init.messages ?? [];
  }

  /** True when any message id ends with `.<suffix>` (registry versions vary between BMCs). */
  hasMessage(suffix: string): boolean {
    return this.messages.some((m) => m.messageId === suffix || m.messageId.endsWith(`.${suffix}`));
  }
}

/** True when `err` is a {@link RedfishHttpError} (shape check; survives duplicate module copies). */
export function isRedfishHttpError(err: unknown): err is RedfishHttpError {
  return err instanceof Error && (err as { code?: unknown }).code === "DPU_REDFISH_HTTP";
}
