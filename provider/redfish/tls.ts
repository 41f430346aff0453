import { X509Certificate } from "node:crypto";

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/**
 * Why `pem` is not a usable CA bundle, or undefined when it is one: at least one `CERTIFICATE` block, and every
 * block parses as an X.509 certificate (node:crypto). Node silently ignores unparsable CA text and then reports
 * `SELF_SIGNED_CERT_IN_CHAIN` at connect time, so this is checked before anything connects.
 */
export function pemCertificateProblem(pem: string): string | undefined {
  const blocks = pem.match(PEM_BLOCK) ?? [];
  if (blocks.length === 0) {
    return "is not a valid PEM certificate: no -----BEGIN CERTIFICATE----- … -----END CERTIFICATE----- block";
  }
  for (const [i, block] of blocks.entries()) {
    try {
      new X509Certificate(block);
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      const which = blocks.length > 1 ? ` (certificate ${i + 1} of ${blocks.length})` : "";
      return `is not a valid PEM certificate${which}: ${why}`;
    }
  }
  return undefined;
}

/** OpenSSL/Node codes of a TLS verification failure (the peer answered, its certificate was refused). */
const TLS_VERIFY_CODES = new Set([
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_SIGNATURE_FAILURE",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
  "INVALID_CA",
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "HOSTNAME_MISMATCH",
]);

function codesOf(err: unknown): string[] {
  const out: string[] = [];
  let cur: unknown = err;
  for (let depth = 0; depth < 5 && cur !== null && typeof cur === "object"; depth++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === "string") out.push(code);
    cur = (cur as { cause?: unknown }).cause;
  }
  return out;
}

/** The TLS verification code in `err` (or its causes), or undefined when it is not a TLS verification failure. */
export function tlsVerifyCode(err: unknown): string | undefined {
  return codesOf(err).find((c) => TLS_VERIFY_CODES.has(c));
}

/**
 * A clear message for a refused BMC certificate: what failed, and the two settings that decide it. `caCertSet`
 * tells whether a CA was given (bmc.caCert or dpu:bmcCaCert) or the system trust store was used.
 */
export function tlsVerifyMessage(code: string, bmc: string, caCertSet: boolean): string {
  const against = caCertSet ? "the CA in bmc.caCert (or dpu:bmcCaCert)" : "the system trust store";
  const hint =
    code === "ERR_TLS_CERT_ALTNAME_INVALID" || code === "HOSTNAME_MISMATCH"
      ? "the certificate does not name the host in bmc.endpoint; use the name or address the certificate was issued for"
      : code === "CERT_HAS_EXPIRED" || code === "CERT_NOT_YET_VALID"
        ? "the BMC's certificate is outside its validity period; renew it or check the clocks"
        : "set bmc.caCert to the PEM of the CA that signed the BMC's certificate, or insecureSkipVerify: true for a lab BMC";
  return `TLS verification of BMC ${bmc} failed (${code}): its certificate was checked against ${against}; ${hint}`;
}

/** OpenSSL codes of a peer that answered the TLS handshake with something that is not TLS (plain HTTP). */
const NOT_TLS_CODES = new Set([
  "ERR_SSL_WRONG_VERSION_NUMBER",
  "ERR_SSL_PACKET_LENGTH_TOO_LONG",
  "ERR_SSL_HTTP_REQUEST",
]);

/** True when `err` (or a cause) shows that the peer does not speak TLS: e.g. an https:// endpoint on an HTTP port. */
export function tlsNotSpoken(err: unknown): boolean {
  if (codesOf(err).some((c) => NOT_TLS_CODES.has(c))) return true;
  let cur: unknown = err;
  for (let depth = 0; depth < 5 && cur instanceof Error; depth++) {
    if (/wrong version number|packet length too long|tls_validate_record_header/i.test(cur.message))
      return true;
    cur = (cur as { cause?: unknown }).cause;
  }
  return false;
}

/** The message for a BMC endpoint that does not speak TLS. */
export function tlsNotSpokenMessage(bmc: string): string {
  return `${bmc} does not speak TLS (is it http://, or the wrong port?)`;
}

/** A TLS failure that no retry heals: a refused certificate, or a peer that does not speak TLS. */
export function tlsPermanent(err: unknown): boolean {
  return tlsVerifyCode(err) !== undefined || tlsNotSpoken(err);
}
