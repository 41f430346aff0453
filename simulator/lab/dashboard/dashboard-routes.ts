import type { IncomingMessage, ServerResponse } from "node:http";
import { FleetObserver, type FleetObserverOptions } from "./fleet-observer";
import type { DashboardTarget, FleetSnapshot } from "./fleet-types";
import { dashboardPage } from "./page";

/** Options of {@link createDashboard}. */
export interface DashboardOptions extends FleetObserverOptions {
  /** Observation period while a live client is connected, ms. Default 1000. */
  readonly intervalMs?: number;
  /** Most concurrent `/api/events` clients; more are answered 503. Default 16. */
  readonly maxClients?: number;
  /** A keep-alive comment is sent after this long without a message, ms. Default 15000. */
  readonly keepAliveMs?: number;
}

/** Activity counters of a dashboard (tests check that it stays idle without clients). */
export interface DashboardStats {
  /** Connected `/api/events` clients. */
  readonly clients: number;
  /** True while the live poll is scheduled or running. */
  readonly polling: boolean;
  /** Fleet observations made so far. */
  readonly observations: number;
  /** Snapshots pushed to live clients so far (one per change, per client). */
  readonly pushed: number;
}

/** The dashboard's HTTP routes, mounted on the lab's control server. */
export interface Dashboard {
  /**
   * Serves `GET /` (the page), `GET /api/fleet` (a JSON {@link FleetSnapshot}) and `GET /api/events`
   * (Server-Sent Events: a snapshot on connect and one whenever something changes). Returns false, touching
   * nothing, for any other path.
   */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
  stats(): DashboardStats;
  /** Ends every live client and stops the poll. */
  close(): void;
}

const PAGE_HEADERS = {
  "Content-Type": "text/html; charset=utf-8",
  "Cache-Control": "no-store",
  "X-Content-Type-Options": "nosniff",
  // Everything is inline and same-origin: the lab runs without internet.
  "Content-Security-Policy":
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'",
};

/** Key of a snapshot without its timestamp: equal keys mean nothing changed. */
function changeKey(s: FleetSnapshot): string {
  return JSON.stringify(s.dpus);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, {
    "Content-Type": "application/json",
    "Content-Length": Buffer.byteLength(text),
    "Cache-Control": "no-store",
  });
  res.end(text);
}

/**
 * Creates the live fleet dashboard of `targets`. Nothing is observed until a client asks: `/api/fleet` makes
 * one observation (reused for a second), and the 1 s live poll runs only while an `/api/events` client is
 * connected.
 */
export function createDashboard(targets: Iterable<DashboardTarget>, opts: DashboardOptions = {}): Dashboard {
  const observer = new FleetObserver(targets, opts);
  const intervalMs = opts.intervalMs ?? 1000;
  const maxClients = opts.maxClients ?? 16;
  const keepAliveMs = opts.keepAliveMs ?? 15_000;
  const clients = new Set<ServerResponse>();
  const page = dashboardPage();
  let timer: NodeJS.Timeout | undefined;
  let running = false;
  let closed = false;
  let lastKey = "";
  let lastWrite = 0;
  let pushed = 0;

  const write = (res: ServerResponse, text: string): void => {
    if (!res.writableEnded && !res.destroyed) res.write(text);
  };
  const push = (res: ServerResponse, snap: FleetSnapshot): void => {
    write(res, `data: ${JSON.stringify(snap)}\n\n`);
    pushed++;
  };

  const tick = async (): Promise<void> => {
    timer = undefined;
    if (closed || clients.size === 0 || running) return;
    running = true;
    try {
      const snap = await observer.observe();
      const key = changeKey(snap);
      if (key !== lastKey) {
        lastKey = key;
        for (const c of clients) push(c, snap);
        lastWrite = Date.now();
      } else if (Date.now() - lastWrite >= keepAliveMs) {
        for (const c of clients) write(c, ": keep-alive\n\n");
        lastWrite = Date.now();
      }
    } catch (e) {
      const text = `event: observe-error\ndata: ${JSON.stringify({ error: e instanceof Error ? e.message : String(e) })}\n\n`;
      for (const c of clients) write(c, text);
    } finally {
      running = false;
    }
    if (!closed && clients.size > 0) timer = setTimeout(() => void tick(), intervalMs);
  };

  const stopPoll = (): void => {
    if (timer) clearTimeout(timer);
    timer = undefined;
  };

  const events = (res: ServerResponse): void => {
    if (clients.size >= maxClients) {
      sendJson(res, 503, { error: `too many dashboard clients (max ${maxClients})` });
      return;
    }
    res.writeHead(200, {
      "Content-Type": "text/event-stream; charset=utf-8",
      "Cache-Control": "no-store",
      Connection: "keep-alive",
      "X-Accel-Buffering": "no",
    });
    res.socket?.setNoDelay(true);
    write(res, "retry: 2000\n\n");
    clients.add(res);
    const gone = (): void => {
      clients.delete(res);
      if (clients.size === 0) stopPoll();
    };
    // The response closes when the client goes away (or the server ends it).
    res.once("close", gone);
    // The newcomer gets the current state at once; the poll then pushes changes to everyone.
    observer.observe(intervalMs).then(
      (snap) => {
        if (clients.has(res)) push(res, snap);
      },
      () => {},
    );
    if (!timer && !running) timer = setTimeout(() => void tick(), intervalMs);
  };

  const handle = (req: IncomingMessage, res: ServerResponse): boolean => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    const routes = ["/", "/index.html", "/api/fleet", "/api/events", "/favicon.ico"];
    if (!routes.includes(path)) return false;
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.setHeader("Allow", "GET, HEAD");
      sendJson(res, 405, { error: `${req.method} not allowed on ${path}; use GET` });
      return true;
    }
    if (closed) {
      sendJson(res, 503, { error: "the lab is stopping" });
      return true;
    }
    if (path === "/favicon.ico") {
      res.writeHead(204).end();
    } else if (path === "/" || path === "/index.html") {
      res.writeHead(200, { ...PAGE_HEADERS, "Content-Length": Buffer.byteLength(page) });
      res.end(req.method === "HEAD" ? undefined : page);
    } else if (path === "/api/fleet") {
      observer.observe(intervalMs).then(
        (snap) => sendJson(res, 200, snap),
        (e: unknown) => sendJson(res, 500, { error: e instanceof Error ? e.message : String(e) }),
      );
    } else {
      events(res);
    }
    return true;
  };

  return {
    handle,
    stats: () => ({
      clients: clients.size,
      polling: timer !== undefined || running,
      observations: observer.observations,
      pushed,
    }),
    close: () => {
      closed = true;
      stopPoll();
      for (const c of clients) c.end();
      clients.clear();
    },
  };
}
