import type { Duplex } from "node:stream";
import { Client, type ConnectConfig } from "ssh2";
import { HostKeyMismatchError, SshConnectError } from "../errors";
import { redact } from "../log";
import { fingerprintOf, pinnedFingerprint } from "./fingerprint";
import { endpointLabel } from "./label";
import type { SshEndpoint, SshTarget } from "./types";

/** A connected chain: the target's client plus the bastion clients it tunnels through (outermost first). */
export interface DialedChain {
  readonly client: Client;
  readonly hops: readonly Client[];
  /** Fingerprint the target presented. */
  readonly fingerprint: string;
}

function forwardOut(via: Client, host: string, port: number): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    via.forwardOut("127.0.0.1", 0, host, port, (err, stream) => {
      if (err) reject(err);
      else resolve(stream);
    });
  });
}

function connectOne(
  ep: SshEndpoint,
  target: SshTarget,
  sock: Duplex | undefined,
): Promise<{ client: Client; fingerprint: string }> {
  const label = endpointLabel(ep);
  const expected = ep.hostKey === undefined ? undefined : pinnedFingerprint(ep.hostKey);
  let presented = "";
  return new Promise((resolve, reject) => {
    const client = new Client();
    let settled = false;
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      client.end();
      if (expected !== undefined && presented !== "" && presented !== expected) {
        reject(new HostKeyMismatchError(label, expected, presented));
        return;
      }
      reject(
        new SshConnectError(label, redact(err.message), {
          cause: err,
          retryable: !/authentication methods failed/i.test(err.message),
        }),
      );
    };
    client.on("error", fail);
    client.once("ready", () => {
      if (settled) return;
      settled = true;
      client.off("error", fail);
      // From here the owner (the pool) listens; until it does, and after a dial abandoned on timeout, an error
      // such as EPIPE on a socket the peer closed must not become an uncaught exception of the whole provider.
      client.on("error", () => undefined);
      resolve({ client, fingerprint: presented });
    });
    client.once("close", () => fail(new Error("connection lost before handshake")));
    const config: ConnectConfig = {
      host: ep.host,
      port: ep.port,
      username: ep.username,
      readyTimeout: target.dialTimeoutMs,
      keepaliveInterval: target.keepaliveIntervalMs,
      keepaliveCountMax: 3,
      hostVerifier: (key: Buffer) => {
        presented = fingerprintOf(key);
        return expected === undefined || presented === expected;
      },
    };
    if (sock !== undefined) config.sock = sock;
    if (ep.privateKey !== undefined) config.privateKey = ep.privateKey;
    if (ep.passphrase !== undefined) config.passphrase = ep.passphrase;
    if (ep.password !== undefined) config.password = ep.password;
    try {
      client.connect(config);
      // Each exec is a few small packets each way; Nagle's algorithm held every reply back for a delayed ACK
      // (20-90 ms per read). ssh2 creates its socket inside connect(); Node applies noDelay once it connects.
      client.setNoDelay(true);
    } catch (err) {
      // Synchronous failures are configuration problems (e.g. an unparsable private key).
      fail(err instanceof Error ? err : new Error(String(err)));
    }
  });
}

/**
 * Dials `target` once, through its jump hosts (each hop tunnels the next with a direct-tcpip channel).
 * Every hop's host key is checked against its pin. On failure every hop opened so far is closed.
 */
export async function dialOnce(target: SshTarget): Promise<DialedChain> {
  const chain = [...target.jumpHosts, target];
  const opened: Client[] = [];
  let timer: NodeJS.Timeout | undefined;
  const budget = target.dialTimeoutMs * chain.length;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new SshConnectError(endpointLabel(target), `dial timed out after ${budget} ms`, {
            retryable: true,
          }),
        ),
      budget,
    );
  });
  const work = (async () => {
    let fingerprint = "";
    for (const ep of chain) {
      const prev = opened[opened.length - 1];
      let sock: Duplex | undefined;
      if (prev !== undefined) {
        try {
          sock = await forwardOut(prev, ep.host, ep.port);
        } catch (err) {
          const detail = err instanceof Error ? err.message : String(err);
          throw new SshConnectError(endpointLabel(ep), `bastion could not reach it: ${redact(detail)}`, {
            cause: err,
          });
        }
      }
      const { client, fingerprint: fp } = await connectOne(ep, target, sock);
      opened.push(client);
      fingerprint = fp;
    }
    return fingerprint;
  })();
  try {
    const fingerprint = await Promise.race([work, timeout]);
    const client = opened[opened.length - 1] as Client;
    return { client, hops: opened.slice(0, -1), fingerprint };
  } catch (err) {
    work.catch(() => {});
    for (const c of opened.reverse()) c.end();
    // A late success after the timeout must not leak connections.
    work.then(
      () => {
        for (const c of opened) c.end();
      },
      () => {},
    );
    throw err;
  } finally {
    clearTimeout(timer);
  }
}
