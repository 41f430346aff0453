const TRANSIENT_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EHOSTDOWN",
  "EPIPE",
  "EAI_AGAIN",
]);

const TRANSIENT_TEXT = [
  /timed out while waiting for handshake/i,
  /connection lost before handshake/i,
  /keepalive timeout/i,
  /not connected/i,
  /socket (hang up|closed)/i,
  /connection refused/i,
  /connection reset/i,
  /channel open failure/i,
  /dial timed out/i,
  /read ECONNRESET/i,
];

/**
 * True when a dial error is worth retrying: the DPU may be rebooting, sshd may be restarting, a bastion may
 * not reach it yet. Authentication failures and host-key mismatches are never transient.
 */
export function isTransientDialError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if ((err as { code?: unknown }).code === "DPU_SSH_HOST_KEY_MISMATCH") return false;
  if (/authentication methods failed|host denied/i.test(err.message)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === "string" && TRANSIENT_CODES.has(code)) return true;
  const cause = (err as { cause?: unknown }).cause;
  if (cause !== undefined && cause !== err && isTransientDialError(cause)) return true;
  return TRANSIENT_TEXT.some((re) => re.test(err.message));
}
