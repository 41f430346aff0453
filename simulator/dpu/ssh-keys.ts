import { generateKeyPairSync, randomBytes } from "node:crypto";

/** An OpenSSH ed25519 key pair as `ssh-keygen` writes it. */
export interface OpenSshKeyPair {
  /** `-----BEGIN OPENSSH PRIVATE KEY-----` PEM (unencrypted). */
  readonly privateKey: string;
  /** `ssh-ed25519 AAAA… comment` authorized_keys line (no newline). */
  readonly publicKey: string;
}

/** SSH wire `string`: uint32 length, then the bytes. */
function sshString(b: Buffer | string): Buffer {
  const body = typeof b === "string" ? Buffer.from(b, "utf8") : b;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length);
  return Buffer.concat([len, body]);
}

function uint32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

/**
 * Generates an ed25519 key pair in OpenSSH's own formats (PROTOCOL.key: `openssh-key-v1`, cipher `none`).
 *
 * Written here from Node's crypto rather than taken from `ssh2.utils.generateKeyPairSync`: that one strips
 * leading zero bytes from the 32-byte public key (mscdex/ssh2#1390, #1513), so about one key in 256 is
 * malformed and OpenSSH refuses it ("error in libcrypto") — a DPU whose sshd cannot load its host key.
 */
export function generateEd25519KeyPair(comment: string): OpenSshKeyPair {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const pub = Buffer.from(publicKey.export({ format: "jwk" }).x ?? "", "base64url");
  const seed = Buffer.from(privateKey.export({ format: "jwk" }).d ?? "", "base64url");
  if (pub.length !== 32 || seed.length !== 32) throw new Error("ed25519 key export gave wrong lengths");
  const pubBlob = Buffer.concat([sshString("ssh-ed25519"), sshString(pub)]);
  const check = randomBytes(4).readUInt32BE(0);
  let priv = Buffer.concat([
    uint32(check),
    uint32(check),
    sshString("ssh-ed25519"),
    sshString(pub),
    sshString(Buffer.concat([seed, pub])),
    sshString(comment),
  ]);
  // Pad to the cipher block size (8 for `none`) with 1, 2, 3, …
  const pad = (8 - (priv.length % 8)) % 8;
  priv = Buffer.concat([priv, Buffer.from(Array.from({ length: pad }, (_, i) => i + 1))]);
  const blob = Buffer.concat([
    Buffer.from("openssh-key-v1\0", "latin1"),
    sshString("none"),
    sshString("none"),
    sshString(""),
    uint32(1),
    sshString(pubBlob),
    sshString(priv),
  ]);
  const b64 = blob.toString("base64").replace(/.{1,70}/g, "$&\n");
  return {
    privateKey: `-----BEGIN OPENSSH PRIVATE KEY-----\n${b64}-----END OPENSSH PRIVATE KEY-----\n`,
    publicKey: `ssh-ed25519 ${pubBlob.toString("base64")}${comment ? ` ${comment}` : ""}`,
  };
}
