/**
 * Requests counted on the BMC side: every HTTP(S) request any server of this process receives (the lab's BMCs
 * run in the benchmark process), with its time, method, path and the server's port, from Node's
 * `http.server.request.start` diagnostics channel. Clients cannot hide or double-count a request here, so the
 * provider, the floor and the peer tools are counted the same way.
 */
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import type { IncomingMessage, Server } from "node:http";
import type { Socket } from "node:net";

/** One request as a server received it. */
export interface LoggedRequest {
  /** `performance.now()` when the request started. */
  readonly t: number;
  readonly method: string;
  /** Path and query. */
  readonly path: string;
  /** The local (server) port: which BMC. */
  readonly port: number;
}

/** A running request log. */
export interface RequestLog {
  /** Everything logged so far. */
  readonly entries: readonly LoggedRequest[];
  /** Entries for the BMC on `port`, between `from` and `to` (performance.now() times). */
  forPort(port: number, from?: number, to?: number): LoggedRequest[];
  stop(): void;
}

const CHANNEL = "http.server.request.start";

/** Starts logging every request served by this process. */
export function startRequestLog(): RequestLog {
  const entries: LoggedRequest[] = [];
  const onMessage = (m: unknown): void => {
    const { request, socket } = m as { request: IncomingMessage; socket: Socket; server: Server };
    entries.push({
      t: performance.now(),
      method: (request.method ?? "GET").toUpperCase(),
      path: request.url ?? "",
      port: socket.localPort ?? 0,
    });
  };
  subscribe(CHANNEL, onMessage);
  return {
    entries,
    forPort(port, from = 0, to = Number.POSITIVE_INFINITY) {
      return entries.filter((e) => e.port === port && e.t >= from && e.t <= to);
    },
    stop() {
      unsubscribe(CHANNEL, onMessage);
    },
  };
}

/** The port of a BMC URL. */
export function portOf(url: string): number {
  return Number(new URL(url).port);
}

/** How one provisioning run's requests split around the reset (the start of the boot wait). */
export interface ProvisionSplit {
  readonly total: number;
  /** Requests up to and including the first `ComputerSystem.Reset` (everything before the boot wait). */
  readonly beforeBootWait: number;
  /** Requests after the reset. */
  readonly afterReset: number;
  /** Time of the reset request, or undefined when none was sent. */
  readonly resetAt: number | undefined;
  /** Time of the first `EjectMedia` after the reset, or undefined. */
  readonly ejectAt: number | undefined;
  /** Median gap between consecutive GETs of the same path after the reset (the poll interval), ms. */
  readonly pollGapMs: number | undefined;
}

/** Splits one BMC's requests of one run around its reset. */
export function splitAtReset(reqs: readonly LoggedRequest[]): ProvisionSplit {
  const i = reqs.findIndex((r) => r.method === "POST" && r.path.includes("ComputerSystem.Reset"));
  const resetAt = i >= 0 ? reqs[i]!.t : undefined;
  const after = i >= 0 ? reqs.slice(i + 1) : [];
  const eject = after.find((r) => r.method === "POST" && r.path.includes("EjectMedia"));
  const gaps: number[] = [];
  const lastByPath = new Map<string, number>();
  for (const r of after) {
    if (eject && r.t >= eject.t) break;
    if (r.method !== "GET") continue;
    const prev = lastByPath.get(r.path);
    if (prev !== undefined) gaps.push(r.t - prev);
    lastByPath.set(r.path, r.t);
  }
  gaps.sort((a, b) => a - b);
  return {
    total: reqs.length,
    beforeBootWait: i >= 0 ? i + 1 : reqs.length,
    afterReset: after.length,
    resetAt,
    ejectAt: eject?.t,
    pollGapMs: gaps.length > 0 ? gaps[Math.floor(gaps.length / 2)] : undefined,
  };
}
