import { createHash } from "node:crypto";

/** OpenSSH-style SHA256 fingerprint (`SHA256:<base64 without padding>`) of a raw public key blob. */
export function fingerprintOf(keyBlob: Uint8Array): string {
  return `SHA256:${createHash("sha256").update(keyBlob).digest("base64").replace(/=+$/, "")}`;
}

/**
 * Normalises a pinned host key to its SHA256 fingerprint. Accepts `SHA256:<base64>` (with or without padding)
 * or a public key line (`ssh-ed25519 AAAA… [comment]`).
 */
export function pinnedFingerprint(hostKey: string): string {
  const trimmed = hostKey.trim();
  if (trimmed.startsWith("SHA256:")) return trimmed.replace(/=+$/, "");
  const blob = trimmed.split(/\s+/)[1];
  if (blob === undefined) throw new TypeError("host key must be SHA256:<base64> or a public key line");
  return fingerprintOf(Buffer.from(blob, "base64"));
}
