import { utils } from "ssh2";
import { registerSecret } from "../log";
import { pinnedFingerprint } from "../ssh/fingerprint";

/** An SSH host key the provider generated for a DPU: delivered in its seed, pinned before first contact. */
export interface GeneratedHostKey {
  /** OpenSSH private key (`-----BEGIN OPENSSH PRIVATE KEY-----`). Secret. */
  readonly privateKey: string;
  /** Public key line (`ssh-ed25519 AAAA…`). */
  readonly publicKey: string;
  /** `SHA256:…` fingerprint of the public key, as `ssh-keygen -lf` prints it. */
  readonly fingerprint: string;
}

/**
 * Generates an ed25519 host key in OpenSSH format (the format sshd and cloud-init's `ssh_keys` read). The
 * private key is registered for redaction at once.
 */
export function generateHostKey(): GeneratedHostKey {
  const pair = utils.generateKeyPairSync("ed25519");
  registerSecret(pair.private);
  const publicKey = pair.public.trim();
  return { privateKey: pair.private, publicKey, fingerprint: pinnedFingerprint(publicKey) };
}
