import { Pool } from "undici";
import { consumeBody } from "../http/consume-body";

/** TLS and pool settings of one BMC connection pool. */
export interface PoolSettings {
  /** BMC origin, e.g. `https://10.0.0.5:443`. */
  readonly origin: string;
  /** PEM CA bundle the BMC certificate must chain to (default: the system trust store). */
  readonly caCert?: string;
  /** Skip TLS verification (lab BMCs with self-signed certificates). Default false. */
  readonly insecureSkipVerify?: boolean;
  /** Upper bound of concurrent connections to this BMC (BMCs have small limits). Default 4. */
  readonly maxConnections?: number;
  /** Timeout of a connect (TCP and TLS handshake), ms; at most the request timeout. Default 10 000. */
  readonly connectTimeoutMs?: number;
}

/** One raw HTTP exchange, as the client sees it. */
export interface RawResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** Response body as text (BMC responses are small JSON documents). */
  readonly text: string;
}

/** One raw HTTP request. */
export interface RawRequest {
  readonly method: string;
  /** Path (and query) on the BMC. */
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body?: string;
  /** Timeout for the whole exchange, ms. */
  readonly timeoutMs: number;
}

/**
 * One exchange with a BMC as the client's layers see it: a request in, the raw response out (HTTP statuses
 * resolve, network failures reject). The innermost one is {@link undiciTransport}.
 */
export type RedfishSend = (req: RawRequest) => Promise<RawResponse>;

/**
 * A layer wrapped around the transport of a RedfishClient (request counting, recording): it receives the next
 * send and returns its own. Layers see every request on the wire, logins, logouts and retries included.
 */
export type RedfishLayer = (next: RedfishSend) => RedfishSend;

/** Largest response body read from a BMC (a Redfish document is a few KiB; a broken BMC must not exhaust memory). */
const MAX_BODY_BYTES = 8 * 1024 * 1024;

const pools = new Map<string, Pool>();

function poolKey(s: PoolSettings): string {
  return `${s.origin}\u0000${s.insecureSkipVerify ? "insecure" : (s.caCert ?? "system")}\u0000${s.maxConnections ?? 4}\u0000${s.connectTimeoutMs ?? 10_000}`;
}

/**
 * The keep-alive undici Pool for one BMC (created on first use, shared by every client of that BMC in this
 * process). Connections are bounded: BMCs allow few concurrent connections and sessions.
 */
export function poolFor(s: PoolSettings): Pool {
  const key = poolKey(s);
  let pool = pools.get(key);
  if (!pool) {
    const tls = s.origin.startsWith("https:")
      ? {
          rejectUnauthorized: !s.insecureSkipVerify,
          ...(s.caCert && !s.insecureSkipVerify ? { ca: s.caCert } : {}),
        }
      : {};
    pool = new Pool(s.origin, {
      connections: s.maxConnections ?? 4,
      keepAliveTimeout: 10_000,
      keepAliveMaxTimeout: 30_000,
      connect: { ...tls, timeout: s.connectTimeoutMs ?? 10_000 },
      pipelining: 1,
    });
    pools.set(key, pool);
  }
  return pool;
}

/** Closes every BMC pool of this process (tests, CLI exit). */
export async function closeAllPools(): Promise<void> {
  const all = [...pools.values()];
  pools.clear();
  await Promise.allSettled(all.map((p) => p.close()));
}

function flatHeaders(h: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined) continue;
    out[k.toLowerCase()] = Array.isArray(v) ? v.join(", ") : v;
  }
  return out;
}

/**
 * Sends one request through the BMC's pool with a hard timeout on the whole exchange: connect (TCP and TLS),
 * headers and body all end within `req.timeoutMs` (a peer that accepts and never answers included). Network
 * failures reject with the undici/Node error (code `ECONNRESET`, `UND_ERR_*`, …, or a `TimeoutError`); HTTP
 * statuses resolve.
 */
export async function sendRaw(settings: PoolSettings, req: RawRequest): Promise<RawResponse> {
  const ac = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const e = Object.assign(new Error(`no answer within ${req.timeoutMs} ms (connect, headers and body)`), {
        name: "TimeoutError",
      });
      ac.abort(e);
      reject(e);
    }, req.timeoutMs);
  });
  const exchange = exchangeOnce(poolFor(settings), req, ac.signal);
  // The loser of the race must not become an unhandled rejection.
  exchange.catch(() => undefined);
  timedOut.catch(() => undefined);
  try {
    return await Promise.race([exchange, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

async function exchangeOnce(pool: Pool, req: RawRequest, signal: AbortSignal): Promise<RawResponse> {
  const res = await pool.request({
    method: req.method as "GET",
    path: req.path,
    headers: req.headers,
    ...(req.body !== undefined ? { body: req.body } : {}),
    headersTimeout: req.timeoutMs,
    bodyTimeout: req.timeoutMs,
    signal,
  });
  const chunks: Buffer[] = [];
  let size = 0;
  await consumeBody(res.body, (buf) => {
    size += buf.length;
    if (size > MAX_BODY_BYTES) throw new Error(`response body larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(buf);
  });
  return {
    status: res.statusCode,
    headers: flatHeaders(res.headers as Record<string, string | string[] | undefined>),
    text: Buffer.concat(chunks).toString("utf8"),
  };
}

/** The undici transport of one BMC: each request goes through the BMC's shared keep-alive pool ({@link sendRaw}). */
export function undiciTransport(settings: PoolSettings): RedfishSend {
  return (req) => sendRaw(settings, req);
}
