import type { RedfishLayer } from "./transport";

/**
 * A transport layer counting the requests a {@link RedfishClient} puts on the wire, by method: every attempt
 * of a retried request, session logins, logouts and stale-session deletions included. Benchmarks and tests pass
 * {@link RequestCounter.layer} in `RedfishClientOptions.layers`; the client itself counts nothing.
 */
export class RequestCounter {
  /** Requests sent so far, by HTTP method. */
  readonly byMethod: Record<string, number> = {};

  /** The layer to inject: counts each request, then passes it on unchanged. */
  readonly layer: RedfishLayer = (next) => (req) => {
    this.byMethod[req.method] = (this.byMethod[req.method] ?? 0) + 1;
    return next(req);
  };

  /** Every request counted so far. */
  get total(): number {
    return Object.values(this.byMethod).reduce((a, b) => a + b, 0);
  }

  /** Starts counting from zero. */
  reset(): void {
    for (const k of Object.keys(this.byMethod)) delete this.byMethod[k];
  }
}
