/**
 * A pinned SSH host key as users write it: `SHA256:<base64>` (as `ssh-keygen -lf` prints) or a public key line
 * (`ssh-ed25519 AAAA… [comment]`). The one definition: every schema with a host-key field imports it.
 */
export const HOST_KEY_PATTERN =
  /^(SHA256:[A-Za-z0-9+/]{43}=?|(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/=]+( .*)?)$/;
