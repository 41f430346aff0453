import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { BmcFaultSettings, BmcSnapshot, DpuOsBackend, SimBmc } from "../contracts";
import type { Dashboard } from "./dashboard";

/** One DPU as the control API sees it. */
export interface ControlTarget {
  readonly bmc: SimBmc;
  readonly backend: DpuOsBackend;
  readonly mgmtIp: string;
}

/** State of one DPU reported by `GET /state`. */
export interface ControlDpuState {
  readonly name: string;
  readonly running: boolean;
  readonly mgmtIp: string;
  readonly bmc: BmcSnapshot;
}

/** A running control API. */
export interface ControlServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  close(): Promise<void>;
}

const FAULT_KEYS: readonly (keyof BmcFaultSettings)[] = [
  "latencyMs",
  "fail503Count",
  "tcpResetCount",
  "taskDelayMs",
  "taskFailCount",
  "bootFailCount",
  "etagConflictCount",
  "insertNoAttachCount",
  "etagStyle",
  "rejectIfMatchOnPost",
  "sessionLimitCount",
  "asyncActionCount",
  "taskMonitorGoneCount",
];

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > 64 * 1024) throw new HttpError(413, "request body too large (max 64 KiB)");
    chunks.push(c as Buffer);
  }
  const text = Buffer.concat(chunks).toString("utf8").trim();
  if (text === "") return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HttpError(400, "request body is not valid JSON");
  }
}

function asObject(v: unknown): Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v))
    throw new HttpError(400, "request body must be a JSON object");
  return v as Record<string, unknown>;
}

/** Validates a `Partial<BmcFaultSettings>`: known keys only, each a non-negative integer. */
export function parseBmcFaults(body: unknown): Partial<BmcFaultSettings> {
  const o = asObject(body);
  const out: Partial<Record<keyof BmcFaultSettings, number>> = {};
  for (const [k, v] of Object.entries(o)) {
    if (!(FAULT_KEYS as readonly string[]).includes(k)) {
      throw new HttpError(400, `unknown BMC fault '${k}' (known: ${FAULT_KEYS.join(", ")})`);
    }
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 86_400_000) {
      throw new HttpError(400, `BMC fault '${k}' must be a non-negative integer`);
    }
    out[k as keyof BmcFaultSettings] = v;
  }
  return out;
}

/** Validates the body of `POST /dpu/:name/faults`. */
export function parseDpuFaults(body: unknown): { sshDown?: boolean; dropSshConnections?: true } {
  const o = asObject(body);
  const out: { sshDown?: boolean; dropSshConnections?: true } = {};
  for (const [k, v] of Object.entries(o)) {
    if (k === "sshDown") {
      if (typeof v !== "boolean") throw new HttpError(400, "'sshDown' must be a boolean");
      out.sshDown = v;
    } else if (k === "dropSshConnections") {
      if (v !== true) throw new HttpError(400, "'dropSshConnections' must be true");
      out.dropSshConnections = true;
    } else {
      throw new HttpError(400, `unknown DPU fault '${k}' (known: sshDown, dropSshConnections)`);
    }
  }
  if (Object.keys(out).length === 0) throw new HttpError(400, "no fault given (sshDown, dropSshConnections)");
  return out;
}

/**
 * Starts the lab's control API (plain HTTP on 127.0.0.1, JSON):
 * `GET /state`, `POST /bmc/:name/faults`, `POST /bmc/:name/expire-sessions`, `POST /dpu/:name/faults`,
 * `POST /faults/clear`. With `opts.dashboard`, also the live fleet dashboard: `GET /`, `GET /api/fleet`,
 * `GET /api/events` (closed with the server).
 */
export async function startControlServer(
  dpus: ReadonlyMap<string, ControlTarget>,
  opts: { host?: string; port?: number; dashboard?: Dashboard } = {},
): Promise<ControlServer> {
  const sshDown = new Set<string>();
  const target = (name: string): ControlTarget => {
    const t = dpus.get(name);
    if (!t) throw new HttpError(404, `unknown DPU '${name}'`);
    return t;
  };

  const handle = async (req: IncomingMessage): Promise<{ status: number; body: unknown }> => {
    const path = new URL(req.url ?? "/", "http://x").pathname.replace(/\/+$/, "") || "/";
    const method = req.method ?? "GET";
    const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
    const post = (): void => {
      if (method !== "POST") throw new HttpError(405, `${method} not allowed on ${path}; use POST`);
    };
    if (path === "/state") {
      if (method !== "GET") throw new HttpError(405, `${method} not allowed on /state; use GET`);
      const list: ControlDpuState[] = [...dpus.entries()].map(([name, t]) => ({
        name,
        running: t.backend.running(),
        mgmtIp: t.mgmtIp,
        bmc: t.bmc.snapshot(),
      }));
      return { status: 200, body: { dpus: list } };
    }
    if (path === "/faults/clear") {
      post();
      for (const [name, t] of dpus) {
        t.bmc.clearFaults();
        if (sshDown.has(name) && t.backend.running()) await t.backend.setSshDown(false);
      }
      sshDown.clear();
      return { status: 200, body: { cleared: true } };
    }
    if (parts.length === 3 && parts[0] === "bmc") {
      const t = target(parts[1]!);
      if (parts[2] === "faults") {
        post();
        const faults = parseBmcFaults(await readJson(req));
        t.bmc.setFaults(faults);
        return { status: 200, body: { name: parts[1], applied: faults } };
      }
      if (parts[2] === "expire-sessions") {
        post();
        t.bmc.expireSessions();
        return { status: 200, body: { name: parts[1], expired: true } };
      }
    }
    if (parts.length === 3 && parts[0] === "dpu" && parts[2] === "faults") {
      const name = parts[1]!;
      const t = target(name);
      post();
      const faults = parseDpuFaults(await readJson(req));
      if (!t.backend.running()) throw new HttpError(409, `DPU '${name}' is not running`);
      if (faults.sshDown !== undefined) {
        await t.backend.setSshDown(faults.sshDown);
        if (faults.sshDown) sshDown.add(name);
        else sshDown.delete(name);
      }
      if (faults.dropSshConnections) await t.backend.dropSshConnections();
      return { status: 200, body: { name, applied: faults } };
    }
    throw new HttpError(404, `no such endpoint: ${method} ${path}`);
  };

  const server = createServer((req, res) => {
    if (opts.dashboard?.handle(req, res)) return;
    handle(req).then(
      (r) => send(res, r.status, r.body),
      (e: unknown) => {
        const status = e instanceof HttpError ? e.status : 500;
        send(res, status, { error: e instanceof Error ? e.message : String(e) });
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", () => resolve());
  });
  const addr = server.address() as AddressInfo;
  return {
    url: `http://${opts.host ?? "127.0.0.1"}:${addr.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        opts.dashboard?.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
