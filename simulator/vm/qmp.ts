import { connect, type Socket } from "node:net";

/** A QMP event (`{"event": …, "data": …}`). */
export interface QmpEvent {
  readonly event: string;
  readonly data?: unknown;
}

/** A connected QEMU Machine Protocol client (capabilities negotiated). */
export interface QmpClient {
  /** Runs `command` and resolves with its `return` value; rejects with QEMU's error description. */
  execute(command: string, args?: Record<string, unknown>): Promise<unknown>;
  /** Events received so far (oldest first). */
  readonly events: readonly QmpEvent[];
  /** Resolves once the monitor connection closed (QEMU exited or {@link QmpClient.close}). */
  readonly closed: Promise<void>;
  close(): void;
}

interface Pending {
  resolve(v: unknown): void;
  reject(e: Error): void;
}

/**
 * Connects to the QMP UNIX socket at `path`, retrying until `timeoutMs` (QEMU creates the socket shortly after
 * it starts), reads the greeting and negotiates capabilities.
 */
export async function connectQmp(path: string, timeoutMs = 10_000): Promise<QmpClient> {
  const deadline = Date.now() + timeoutMs;
  let sock: Socket | undefined;
  let lastError = "";
  while (!sock) {
    try {
      sock = await new Promise<Socket>((resolve, reject) => {
        const s = connect(path);
        s.once("connect", () => resolve(s));
        s.once("error", reject);
      });
    } catch (e) {
      lastError = e instanceof Error ? e.message : String(e);
      if (Date.now() > deadline) throw new Error(`QMP socket ${path}: ${lastError}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  const s = sock;
  const events: QmpEvent[] = [];
  const queue: Pending[] = [];
  let greeted: Pending | undefined;
  const greeting = new Promise<unknown>((resolve, reject) => {
    greeted = { resolve, reject };
  });
  let buf = "";
  let closedResolve: () => void = () => {};
  const closed = new Promise<void>((r) => {
    closedResolve = r;
  });
  s.setEncoding("utf8");
  s.on("data", (chunk: string) => {
    buf += chunk;
    for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (!line) continue;
      let msg: Record<string, unknown>;
      try {
        msg = JSON.parse(line) as Record<string, unknown>;
      } catch {
        continue;
      }
      if ("QMP" in msg) {
        greeted?.resolve(msg);
        greeted = undefined;
      } else if (typeof msg.event === "string") {
        events.push({ event: msg.event, data: msg.data });
      } else if ("return" in msg) {
        queue.shift()?.resolve(msg.return);
      } else if ("error" in msg) {
        const err = msg.error as { class?: string; desc?: string };
        queue.shift()?.reject(new Error(`QMP ${err.class ?? "Error"}: ${err.desc ?? "unknown error"}`));
      }
    }
  });
  const fail = (why: string): void => {
    greeted?.reject(new Error(why));
    greeted = undefined;
    for (const p of queue.splice(0)) p.reject(new Error(why));
  };
  s.on("error", (e) => fail(`QMP connection error: ${e.message}`));
  s.on("close", () => {
    fail("QMP connection closed");
    closedResolve();
  });
  const execute = (command: string, args?: Record<string, unknown>): Promise<unknown> =>
    new Promise((resolve, reject) => {
      if (s.destroyed) {
        reject(new Error("QMP connection closed"));
        return;
      }
      queue.push({ resolve, reject });
      s.write(`${JSON.stringify(args ? { execute: command, arguments: args } : { execute: command })}\n`);
    });
  await greeting;
  await execute("qmp_capabilities");
  return { execute, events, closed, close: () => s.destroy() };
}
