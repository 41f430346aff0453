/** A sha256 digest as 64 lower-case hex digits (what `sha256sum` prints and every field of this package takes). */
export const SHA256_HEX_SOURCE = "[0-9a-f]{64}";

/** A whole value that is a sha256 digest: 64 lower-case hex digits. */
export const SHA256_HEX = new RegExp(`^${SHA256_HEX_SOURCE}$`);
