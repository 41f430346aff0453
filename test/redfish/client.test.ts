import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import type { IncomingHttpHeaders } from "node:http";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { RedfishHttpError } from "../../provider/errors/redfish-http-error";
import type { Logger } from "../../provider/log";
import {
  closeAllPools,
  RedfishClient,
  type RedfishClientOptions,
  RedfishTaskError,
  RequestCounter,
  waitForTask,
  withBmcLock,
} from "../../provider/redfish";

// ---- Scripted HTTPS BMC -------------------------------------------------------------------------------------

/** One request as the scripted BMC saw it (header names lower-case). */
interface Seen {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** Arrival time, ms. */
  readonly at: number;
}

/** One scripted answer. */
interface Reply {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body?: unknown;
  readonly delayMs?: number;
}

type Script = (req: Seen, index: number) => Reply;

interface Bmc {
  readonly url: string;
  readonly seen: Seen[];
  close(): Promise<void>;
}

/** Answers the i-th request with `replies[i]` (a reply or a function of the request); 500 once exhausted. */
function steps(...replies: (Reply | ((req: Seen) => Reply))[]): Script {
  return (req, i) => {
    const r = replies[i] ?? { status: 500, body: { error: { message: "script exhausted" } } };
    return typeof r === "function" ? r(req) : r;
  };
}

let tls: { key: string; cert: string };
const running: Bmc[] = [];

/** Starts a scripted BMC on 127.0.0.1 with the throwaway self-signed certificate. */
async function bmc(script: Script): Promise<Bmc> {
  const seen: Seen[] = [];
  const server = createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
    const at = Date.now();
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const r: Seen = {
        method: req.method ?? "?",
        path: req.url ?? "/",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
        at,
      };
      seen.push(r);
      const reply = script(r, seen.length - 1);
      setTimeout(() => {
        res.writeHead(reply.status, { "Content-Type": "application/json", ...reply.headers });
        res.end(reply.body === undefined ? undefined : JSON.stringify(reply.body));
      }, reply.delayMs ?? 0);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const b: Bmc = {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
  running.push(b);
  return b;
}

const quiet: Logger = { info: () => {}, debug: () => {}, child: () => quiet };
const PASSWORD = "s3cret-bmc-pw";

/** A client of `b` trusting the test certificate, with fast retries; Basic auth unless told otherwise. */
function client(b: Bmc, extra: Partial<RedfishClientOptions> = {}): RedfishClient {
  return new RedfishClient({
    endpoint: b.url,
    username: "admin",
    password: PASSWORD,
    caCert: tls.cert,
    auth: "basic",
    retryAttempts: 3,
    retryBaseDelayMs: 10,
    retryMaxDelayMs: 2000,
    log: quiet,
    ...extra,
  });
}

const lines = (b: Bmc) => b.seen.map((r) => `${r.method} ${r.path}`);
const header = (b: Bmc, name: string) => b.seen.map((r) => r.headers[name]);
/** The error `p` rejects with (fails the test if it resolves). */
const rejection = <E = RedfishHttpError>(p: Promise<unknown>): Promise<E> =>
  p.then(
    () => expect.fail("expected a rejection"),
    (err: unknown) => err as E,
  );

const SYS = "/redfish/v1/Systems/1";
const SESSIONS = "/redfish/v1/SessionService/Sessions";
const BASIC = `Basic ${Buffer.from(`admin:${PASSWORD}`).toString("base64")}`;
const precondition: Reply = {
  status: 412,
  body: { error: { code: "Base.1.18.PreconditionFailed", message: "ETag mismatch" } },
};

beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), "redfish-client-test-"));
  try {
    const [key, cert] = [join(dir, "key.pem"), join(dir, "cert.pem")];
    await promisify(execFile)(
      "openssl",
      ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        .concat(["-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1"])
        .concat(["-addext", "subjectAltName=IP:127.0.0.1"]),
      { timeout: 30_000 },
    );
    tls = { key: await readFile(key, "utf8"), cert: await readFile(cert, "utf8") };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

afterEach(async () => {
  await closeAllPools();
  await Promise.all(running.splice(0).map((b) => b.close()));
});

// ---- Tests ---------------------------------------------------------------------------------------------------

describe("RedfishClient: ETag / If-Match", () => {
  it("PATCH sends the cached weak tag, then its strong form, then no If-Match on 412", async () => {
    const b = await bmc(
      steps({ status: 200, headers: { ETag: 'W/"42"' }, body: { Id: "1" } }, precondition, precondition, {
        status: 200,
        body: { Id: "1" },
      }),
    );
    const c = client(b);
    await c.get(SYS, { action: "read system" });
    const patch = { Boot: { BootSourceOverrideTarget: "Pxe" } };
    const res = await c.patch(SYS, patch, { action: "set boot override" });
    expect(res.status).toBe(200);
    expect(lines(b)).toEqual([`GET ${SYS}`, `PATCH ${SYS}`, `PATCH ${SYS}`, `PATCH ${SYS}`]);
    expect(header(b, "if-match")).toEqual([undefined, 'W/"42"', '"42"', undefined]);
    expect(b.seen.slice(1).map((r) => JSON.parse(r.body))).toEqual([patch, patch, patch]);
  });

  it("re-reads the tag after every form is refused, and gives up with the 412 once nothing new is left", async () => {
    const b = await bmc(
      steps(precondition, precondition, { status: 200, body: { "@odata.etag": '"43"' } }, { status: 204 }),
    );
    const c = client(b);
    const res = await c.patch(SYS, { AssetTag: "a" }, { action: "set asset tag", etag: '"41"' });
    expect(res.status).toBe(204);
    expect(lines(b)).toEqual([`PATCH ${SYS}`, `PATCH ${SYS}`, `GET ${SYS}`, `PATCH ${SYS}`]);
    expect(header(b, "if-match")).toEqual(['"41"', undefined, undefined, '"43"']);

    const b2 = await bmc((r) =>
      r.method === "GET" ? { status: 200, headers: { ETag: '"7"' } } : precondition,
    );
    const err = await rejection(client(b2).patch(SYS, {}, { action: "x", etag: '"7"' }));
    expect(err).toBeInstanceOf(RedfishHttpError);
    expect(err.status).toBe(412);
    expect(header(b2, "if-match")).toEqual(['"7"', undefined, undefined]);
  });
});

describe("RedfishClient: retries", () => {
  it("retries a GET answered 503 + Retry-After: 1 no sooner than a second later", async () => {
    const b = await bmc(
      steps({ status: 503, headers: { "Retry-After": "1" } }, { status: 200, body: { PowerState: "On" } }),
    );
    const res = await client(b).get(SYS, { action: "read system" });
    expect(res.body).toEqual({ PowerState: "On" });
    expect(lines(b)).toEqual([`GET ${SYS}`, `GET ${SYS}`]);
    const gap = b.seen[1]!.at - b.seen[0]!.at;
    expect(gap).toBeGreaterThanOrEqual(950);
    expect(gap).toBeLessThan(2500);
  });

  it("gives up after retryAttempts with a typed error carrying the 503", async () => {
    const b = await bmc(() => ({ status: 503 }));
    const err = await rejection(client(b).get(SYS, { action: "read system" }));
    expect(err).toBeInstanceOf(RedfishHttpError);
    expect(err).toMatchObject({ code: "DPU_REDFISH_HTTP", status: 503, path: SYS, retryable: true });
    expect(err.message).toContain("HTTP 503");
    expect(lines(b)).toEqual(Array(3).fill(`GET ${SYS}`)); // retryAttempts: 3
  });

  it("repeats a POST only when the BMC says it was not carried out (busy MessageId)", async () => {
    const busy = { "@Message.ExtendedInfo": [{ MessageId: "Base.1.18.ResourceInUse", Message: "busy" }] };
    const b = await bmc(steps({ status: 500 }, { status: 409, body: { error: busy } }, { status: 204 }));
    const c = client(b);
    const action = "/redfish/v1/Systems/1/Actions/ComputerSystem.Reset";
    const reset = () => c.post(action, { ResetType: "On" }, { action: "reset" });
    expect(await rejection(reset())).toMatchObject({ status: 500 });
    expect(b.seen).toHaveLength(1);
    expect((await reset()).status).toBe(204);
    expect(lines(b)).toEqual(Array(3).fill(`POST ${action}`));
  });

  it("verifies TLS: without caCert the self-signed BMC is refused with a status-0 error", async () => {
    const b = await bmc(() => ({ status: 200 }));
    const c = client(b, { caCert: undefined, retryAttempts: 1 });
    const err = await rejection(c.get(SYS, { action: "read system" }));
    expect(err).toMatchObject({ code: "DPU_REDFISH_HTTP", status: 0 });
    expect(err.message).toContain("no response");
    expect(b.seen).toHaveLength(0);
  });
});

describe("RedfishClient: authentication", () => {
  const login =
    (n: number, absolute = false) =>
    (r: Seen) => ({
      status: 201,
      headers: {
        "X-Auth-Token": `tok-${n}`,
        Location: `${absolute ? `https://${r.headers.host}` : ""}${SESSIONS}/${n}`,
      },
      body: { "@odata.id": `${SESSIONS}/${n}` },
    });

  it("opens a session, re-logs in once on 401, retries with the new token, and deletes the session on close", async () => {
    const b = await bmc(
      steps(login(1, true), { status: 200 }, { status: 401 }, login(2), { status: 200 }, { status: 204 }),
    );
    const c = client(b, { auth: "auto" });
    await c.get(SYS, { action: "read system" });
    expect(c.authInUse).toBe("session");
    await c.get(SYS, { action: "read system" });
    await c.close();
    expect(lines(b)).toEqual([
      `POST ${SESSIONS}`,
      `GET ${SYS}`,
      `GET ${SYS}`,
      `POST ${SESSIONS}`,
      `GET ${SYS}`,
      `DELETE ${SESSIONS}/2`,
    ]);
    expect(header(b, "x-auth-token")).toEqual([undefined, "tok-1", "tok-1", undefined, "tok-2", "tok-2"]);
    expect(header(b, "authorization")).toEqual(Array(6).fill(undefined));
    expect(JSON.parse(b.seen[0]!.body)).toEqual({ UserName: "admin", Password: PASSWORD });
    expect(c.authInUse).toBeUndefined();
  });

  it("re-logs in only once: a 401 after the re-login is a typed 401 error", async () => {
    const b = await bmc(steps(login(1), { status: 401 }, login(2), { status: 401 }, { status: 204 }));
    const c = client(b, { auth: "session" });
    const err = await rejection(c.get(SYS, { action: "read system" }));
    expect(err).toMatchObject({ status: 401, retryable: false });
    expect(err.message).toContain("authentication failed");
    await c.close();
    expect(lines(b)).toEqual([
      `POST ${SESSIONS}`,
      `GET ${SYS}`,
      `POST ${SESSIONS}`,
      `GET ${SYS}`,
      `DELETE ${SESSIONS}/2`,
    ]);
  });

  it("auto mode falls back to Basic when the BMC does not support sessions; session mode fails", async () => {
    const b = await bmc(steps({ status: 405 }, { status: 200 }, { status: 200 }));
    const c = client(b, { auth: "auto" });
    await c.get(SYS, { action: "read system" });
    await c.get(SYS, { action: "read system" });
    expect(c.authInUse).toBe("basic");
    await c.close();
    expect(lines(b)).toEqual([`POST ${SESSIONS}`, `GET ${SYS}`, `GET ${SYS}`]);
    expect(header(b, "authorization")).toEqual([undefined, BASIC, BASIC]);

    const b2 = await bmc(steps({ status: 405 }));
    const err = await rejection(client(b2, { auth: "session" }).get(SYS, { action: "read system" }));
    expect(err).toMatchObject({ status: 405, method: "POST", path: SESSIONS });
    expect(err.message).toMatch(/^log in on BMC https:\/\/127\.0\.0\.1:\d+: POST/);
  });

  it("auto + preferBasic starts with Basic and opens a session only when Basic is refused", async () => {
    const b = await bmc(steps({ status: 401 }, login(1), { status: 200 }, { status: 204 }));
    const c = client(b, { auth: "auto", preferBasic: true });
    await c.get(SYS, { action: "read system" });
    await c.close();
    expect(lines(b)).toEqual([`GET ${SYS}`, `POST ${SESSIONS}`, `GET ${SYS}`, `DELETE ${SESSIONS}/1`]);
    expect(header(b, "authorization")).toEqual([BASIC, undefined, undefined, undefined]);
    expect(header(b, "x-auth-token")).toEqual([undefined, undefined, "tok-1", "tok-1"]);
  });
  it("auto + preferBasic: Basic refused and the session login refused too (or absent) → the error is Basic's refusal of the request, naming both schemes, not the session POST", async () => {
    // sushy-tools with a wrong password: GET 401 (Basic), POST …/Sessions 401 (no SessionService linked).
    for (const sessionStatus of [401, 404]) {
      const b = await bmc(steps({ status: 401 }, { status: sessionStatus }));
      const c = client(b, { auth: "auto", preferBasic: true });
      const err = await rejection(c.get(SYS, { action: "read system" }));
      await c.close();
      expect(lines(b)).toEqual([`GET ${SYS}`, `POST ${SESSIONS}`]);
      expect(err).toMatchObject({ status: 401, method: "GET", path: SYS });
      expect(err.message).toContain("tried HTTP Basic, then a session login");
      expect(err.message).toContain("check bmc.username / bmc.password");
      expect(err.message).not.toContain("POST");
    }
  });
});

describe("RedfishClient: Redfish error bodies", () => {
  it("turns @Message.ExtendedInfo into a typed error naming the action, the BMC and the cause", async () => {
    const info = {
      MessageId: "Base.1.18.PropertyValueNotInList",
      Message:
        "The value 'Floppy' for the property BootSourceOverrideTarget is not in the list of acceptable values.",
      Resolution: "Choose a value from the enumeration list and resubmit the request.",
      MessageSeverity: "Warning",
      RelatedProperties: ["#/Boot/BootSourceOverrideTarget"],
    };
    const b = await bmc(
      steps({
        status: 400,
        body: { error: { code: "Base.1.18.GeneralError", "@Message.ExtendedInfo": [info] } },
      }),
    );
    const patch = { Boot: { BootSourceOverrideTarget: "Floppy" } };
    const err = await rejection(client(b).patch(SYS, patch, { action: "set boot override" }));
    expect(err).toBeInstanceOf(RedfishHttpError);
    expect(err).toMatchObject({
      code: "DPU_REDFISH_HTTP",
      status: 400,
      method: "PATCH",
      path: SYS,
      bmc: b.url,
    });
    expect(err).toMatchObject({ redfishCode: "Base.1.18.GeneralError", retryable: false });
    expect(err.messages).toEqual([
      {
        messageId: info.MessageId,
        message: info.Message,
        resolution: info.Resolution,
        severity: "Warning",
        relatedProperties: ["#/Boot/BootSourceOverrideTarget"],
      },
    ]);
    expect(err.hasMessage("PropertyValueNotInList")).toBe(true);
    expect(err.message).toBe(
      `set boot override on BMC ${b.url}: PATCH ${SYS} failed, HTTP 400: ${info.Message} (${info.MessageId}). ` +
        `BMC resolution: ${info.Resolution}`,
    );
    expect(err.message).not.toContain(PASSWORD);
    expect(b.seen).toHaveLength(1);
  });
});

describe("RedfishClient: injected layers", () => {
  it("a RequestCounter layer counts every request the BMC saw (login, retry, re-login, logout) and changes none of them", async () => {
    const login = (n: number): Reply => ({
      status: 201,
      headers: { "X-Auth-Token": `tok-${n}`, Location: `${SESSIONS}/${n}` },
    });
    const script = () =>
      steps(
        login(1),
        { status: 503, headers: { "Retry-After": "0" } },
        { status: 200 },
        { status: 401 },
        login(2),
        { status: 200 },
        { status: 204 },
      );
    const run = async (c: RedfishClient) => {
      await c.get(SYS, { action: "read system" });
      await c.get(SYS, { action: "read system" });
      await c.close();
    };
    const plain = await bmc(script());
    await run(client(plain, { auth: "auto" }));
    const counted = await bmc(script());
    const counter = new RequestCounter();
    const seenByLayer: string[] = [];
    await run(
      client(counted, {
        auth: "auto",
        layers: [
          counter.layer,
          (next) => (req) => {
            seenByLayer.push(`${req.method} ${req.path}`);
            return next(req);
          },
        ],
      }),
    );
    // The BMC's own log is the reference: the counter matches it method by method, and the layers change
    // nothing on the wire (same sequence as without them).
    const byMethod: Record<string, number> = {};
    for (const r of counted.seen) byMethod[r.method] = (byMethod[r.method] ?? 0) + 1;
    expect(counter.byMethod).toEqual(byMethod);
    expect(counter.total).toBe(counted.seen.length);
    expect(seenByLayer).toEqual(lines(counted));
    expect(lines(counted)).toEqual(lines(plain));
    expect(lines(counted)).toContain(`DELETE ${SESSIONS}/2`);
    counter.reset();
    expect(counter.total).toBe(0);
  });
});

describe("withBmcLock", () => {
  it("serialises operations on one BMC and lets different BMCs overlap", async () => {
    const slow: Script = () => ({ status: 200, delayMs: 200 });
    const [a, z] = [await bmc(slow), await bmc(slow)];
    const [ca, cz] = [client(a), client(z)];
    const op = (endpoint: string, c: RedfishClient) =>
      withBmcLock(endpoint, async () => {
        const start = Date.now();
        await c.get(SYS, { action: "read system" });
        return { start, end: Date.now() };
      });
    // The lock key is the origin: a URL with a path is the same BMC.
    const [first, second, other] = await Promise.all([
      op(a.url, ca),
      op(`${a.url}/redfish/v1`, ca),
      op(z.url, cz),
    ]);
    expect(second.start).toBeGreaterThanOrEqual(first.end);
    expect(other.start).toBeLessThan(first.end);
    expect(a.seen[1]!.at - a.seen[0]!.at).toBeGreaterThanOrEqual(190);

    await expect(withBmcLock(a.url, () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect(await withBmcLock(a.url, async () => "released")).toBe("released");
  });
});

describe("waitForTask", () => {
  const UPDATE = "/redfish/v1/UpdateService/Actions/UpdateService.SimpleUpdate";
  const MONITOR = "/redfish/v1/TaskService/TaskMonitors/7";

  it("polls the task monitor from a 202, honouring Retry-After, until TaskState Completed", async () => {
    const b = await bmc(
      steps(
        { status: 202, headers: { Location: MONITOR, "Retry-After": "1" }, body: {} },
        { status: 202, headers: { "Retry-After": "0" }, body: { TaskState: "Running", PercentComplete: 50 } },
        { status: 200, body: { TaskState: "Completed", TaskStatus: "OK" } },
      ),
    );
    const c = client(b);
    const started = await c.post(UPDATE, { ImageURI: "https://images/dpu.bfb" }, { action: "install image" });
    const progress: string[] = [];
    const done = await waitForTask(c, started, {
      action: "install image",
      timeoutMs: 4000,
      intervalMs: 3000,
      onProgress: (l) => progress.push(l.replace(/ after \d+s$/, "")),
    });
    expect(done).toEqual({ TaskState: "Completed", TaskStatus: "OK" });
    expect(lines(b)).toEqual([`POST ${UPDATE}`, `GET ${MONITOR}`, `GET ${MONITOR}`]);
    expect(b.seen[1]!.at - b.seen[0]!.at).toBeGreaterThanOrEqual(950);
    expect(b.seen[2]!.at - b.seen[1]!.at).toBeLessThan(1000); // Retry-After: 0, not the 3 s interval
    expect(progress).toEqual(["install image: task Running 50%", "install image: task Completed"]);
  });

  it("rejects with a RedfishTaskError carrying the task messages when the task ends in Exception", async () => {
    const msg = {
      MessageId: "Update.1.0.ApplyFailed",
      Message: "Image is corrupt.",
      Resolution: "Re-upload.",
    };
    const b = await bmc(
      steps(
        { status: 202, headers: { Location: MONITOR } },
        { status: 200, body: { TaskState: "Exception", Messages: [msg] } },
      ),
    );
    const c = client(b);
    const started = await c.post(UPDATE, {}, { action: "install image" });
    const wait = waitForTask(c, started, { action: "install image", timeoutMs: 2000, intervalMs: 10 });
    const err = await rejection<RedfishTaskError>(wait);
    expect(err).toBeInstanceOf(RedfishTaskError);
    expect(err).toMatchObject({ code: "DPU_REDFISH_TASK", taskUri: MONITOR, taskState: "Exception" });
    expect(err.message).toBe(
      `install image on BMC ${b.url}: task ${MONITOR} ended in state Exception: ` +
        "Image is corrupt. (Update.1.0.ApplyFailed). BMC resolution: Re-upload.",
    );
  });
});
