import { Client } from "ssh2";

/** The host key an SSH server offered, as `ssh-keyscan` prints it after the address: `<type> <base64>`. */
export interface ScannedHostKey {
  readonly keyLine: string;
}

/**
 * Reads the host key `host:port` offers (what `ssh-keyscan -t ed25519 <host>` prints: NVIDIA's "Setting Up Secure
 * Connection" step for the BlueField BMC's SCP transfer), without authenticating: the connection is dropped as
 * soon as the key arrives. Prefers ed25519 like the NVIDIA example. The key is whatever answered: a caller that
 * trusts it does so on first use and must say so.
 */
export async function scanHostKey(host: string, port: number, timeoutMs: number): Promise<ScannedHostKey> {
  return new Promise((resolve, reject) => {
    const c = new Client();
    let key: Buffer | undefined;
    const done = (err?: Error): void => {
      c.removeAllListeners();
      c.on("error", () => undefined);
      c.end();
      if (key) {
        const len = key.readUInt32BE(0);
        const type = key.subarray(4, 4 + len).toString("latin1");
        resolve({ keyLine: `${type} ${key.toString("base64")}` });
      } else reject(err ?? new Error("no host key received"));
    };
    c.on("error", (e: Error) => done(e));
    c.on("close", () => done());
    c.connect({
      host,
      port,
      username: "host-key-scan",
      readyTimeout: timeoutMs,
      algorithms: {
        serverHostKey: [
          "ssh-ed25519",
          "ecdsa-sha2-nistp256",
          "ecdsa-sha2-nistp384",
          "ecdsa-sha2-nistp521",
          "rsa-sha2-512",
          "rsa-sha2-256",
        ],
      },
      hostVerifier: (k: Buffer) => {
        key = Buffer.from(k);
        return false;
      },
    });
  });
}
