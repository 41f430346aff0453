/**
 * Base class of every error the provider raises on purpose.
 *
 * Each subclass has a stable `code`; callers branch on `code` (or the `is…` guards), never on message text.
 * Messages follow one shape: `<action> <resource> (<target>): <cause>` so a user reading `pulumi up` output
 * knows what was being done, to which DPU, and why it failed.
 */
export class DpuError extends Error {
  /** Stable machine-readable code, e.g. `DPU_REDFISH_HTTP`. */
  readonly code: string;
  /** Whether retrying the same request later may succeed. */
  readonly retryable: boolean;

  constructor(code: string, message: string, options?: { cause?: unknown; retryable?: boolean }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "DpuError";
    this.code = code;
    this.retryable = options?.retryable ?? false;
  }
}

/** True when `err` is a {@link DpuError}, also across duplicate module copies (checks the shape, not the class). */
export function isDpuError(err: unknown): err is DpuError {
  return err instanceof Error && typeof (err as { code?: unknown }).code === "string" && "retryable" in err;
}
