import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer as createHttpServer, type RequestListener, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { type AddressInfo, createServer as createTcpServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeAllPools } from "../../provider/redfish";
import { type DpuHostInputs, DpuHostInputsSchema, dpuHost } from "../../provider/resources/dpu-host";
import { type Lab, startLab } from "../../simulator";
import { control, inputsFor, labAvailable } from "../dpu-host/helpers";

// Issue 12 review, findings 3-6: BMC errors a hostile endpoint provokes. An https endpoint that is plain HTTP
// gave a raw OpenSSL dump; a TLS server answering HTML or broken JSON gave "several systems and none is
// recognisably the DPU; systems: (none)"; a TCP server that never answers took 20.7 s with requestTimeoutMs 3000
// and retryAttempts 2; the boot timeout did not name the BMC. Each must be clear, bounded, and touch nothing.

/** A fake "BMC" counting the requests it got, by method. */
interface Fake {
  readonly url: string;
  readonly methods: Record<string, number>;
  close(): Promise<void>;
}

const closeServer = (s: Server | ReturnType<typeof createTcpServer>) =>
  new Promise<void>((r) => s.close(() => r()));

async function listen(
  s: Server | ReturnType<typeof createTcpServer>,
  scheme: string,
  methods: Record<string, number>,
  sockets: Set<Socket>,
): Promise<Fake> {
  s.on("connection", (c: Socket) => {
    sockets.add(c);
    c.on("close", () => sockets.delete(c));
  });
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
  return {
    url: `${scheme}://127.0.0.1:${(s.address() as AddressInfo).port}`,
    methods,
    async close() {
      for (const c of sockets) c.destroy();
      await closeServer(s);
    },
  };
}

function httpFake(
  make: (h: RequestListener) => Server,
  scheme: string,
  contentType: string,
  body: string,
): Promise<Fake> {
  const methods: Record<string, number> = {};
  const s = make((req, res) => {
    methods[req.method ?? "?"] = (methods[req.method ?? "?"] ?? 0) + 1;
    req.resume();
    res.writeHead(200, { "Content-Type": contentType }).end(body);
  });
  return listen(s, scheme, methods, new Set());
}

/** Accepts TCP connections and never answers; counts request lines that carry a write method. */
function silentFake(): Promise<Fake> {
  const methods: Record<string, number> = {};
  const s = createTcpServer((c) => {
    c.on("data", (d: Buffer) => {
      for (const m of ["PATCH", "POST", "PUT", "DELETE"]) {
        if (d.toString("latin1").startsWith(`${m} `)) methods[m] = (methods[m] ?? 0) + 1;
      }
    });
  });
  return listen(s, "https", methods, new Set());
}

const writes = (f: Fake) => (f.methods.PATCH ?? 0) + (f.methods.POST ?? 0) + (f.methods.PUT ?? 0);

describe("DpuHost: BMC endpoints that are not what they claim", () => {
  let tls: { key: string; cert: string };
  // The image server: reachable, so the create gets as far as the BMC.
  let images: Fake;
  beforeAll(async () => {
    images = await httpFake(createHttpServer, "http", "application/octet-stream", "bfb-image-bytes");
    const dir = await mkdtemp(join(tmpdir(), "host-bmc-errors-"));
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
  afterAll(async () => {
    await images?.close();
    await closeAllPools();
  });

  const inputs = (endpoint: string, bmc: Record<string, unknown> = {}): DpuHostInputs =>
    DpuHostInputsSchema.parse({
      bmc: { endpoint, username: "admin", password: "hunter2-bmc", retryBaseDelayMs: 50, ...bmc },
      image: { url: `${images.url}/dpu.bfb` },
      ready: { timeoutMs: 10_000 },
    });
  const createError = async (i: DpuHostInputs) => {
    const err = await dpuHost.create!(i).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    return (err as Error).message;
  };

  it("an https endpoint that is a plain HTTP server: 'does not speak TLS', no OpenSSL dump, no retries", async () => {
    const f = await httpFake(createHttpServer, "http", "application/json", "{}");
    try {
      const endpoint = f.url.replace(/^http:/, "https:");
      const started = Date.now();
      const msg = await createError(inputs(endpoint, { insecureSkipVerify: true, retryAttempts: 5 }));
      expect(msg).toContain(`${endpoint} does not speak TLS (is it http://, or the wrong port?)`);
      expect(msg).not.toMatch(/ERR_SSL|tls_validate_record_header|wrong version number/i);
      expect(Date.now() - started).toBeLessThan(3_000);
      expect(writes(f)).toBe(0);
    } finally {
      await f.close();
    }
  });

  it("a TLS server answering HTML: the service root is not Redfish, naming the BMC and quoting its answer", async () => {
    const html = `<html><head><title>Router login</title></head><body>${"x".repeat(5000)}</body></html>`;
    const f = await httpFake((h) => createHttpsServer({ ...tls }, h), "https", "text/html", html);
    try {
      const msg = await createError(inputs(f.url, { caCert: tls.cert }));
      expect(msg).toContain(
        `discover BMC ${f.url}: the service root /redfish/v1 is not a Redfish service root (it answered something that is not JSON (text/html): "<html><head><title>Router login</title>`,
      );
      expect(msg).not.toContain("none is recognisably the DPU");
      expect(msg.length).toBeLessThan(800);
      expect(writes(f)).toBe(0);
    } finally {
      await f.close();
    }
  });

  it("a TLS server answering broken JSON, or JSON that is not Redfish: said so", async () => {
    const broken = await httpFake(
      (h) => createHttpsServer({ ...tls }, h),
      "https",
      "application/json",
      '{"RedfishVersion": "1.6.0", "Systems": {',
    );
    const other = await httpFake(
      (h) => createHttpsServer({ ...tls }, h),
      "https",
      "application/json",
      '{"status":"ok","service":"metrics"}',
    );
    try {
      expect(await createError(inputs(broken.url, { caCert: tls.cert }))).toContain(
        `discover BMC ${broken.url}: the service root /redfish/v1 is not a Redfish service root (it answered something that is not JSON (application/json): "{"RedfishVersion": "1.6.0", "Systems": {"`,
      );
      expect(await createError(inputs(other.url, { caCert: tls.cert }))).toContain(
        `is not a Redfish service root (it answered JSON without RedfishVersion or @odata.id (application/json): "{"status":"ok","service":"metrics"}"`,
      );
      expect(writes(broken) + writes(other)).toBe(0);
    } finally {
      await broken.close();
      await other.close();
    }
  });

  it("a server that accepts and never answers: requestTimeoutMs bounds each attempt, connect included", async () => {
    const f = await silentFake();
    try {
      const started = Date.now();
      const msg = await createError(
        inputs(f.url, { caCert: tls.cert, requestTimeoutMs: 3000, retryAttempts: 2 }),
      );
      const took = Date.now() - started;
      // 2 attempts × 3 s + one backoff (50 ms), with slack for a busy machine; it took 20.7 s before.
      expect(took).toBeLessThan(8_000);
      expect(took).toBeGreaterThanOrEqual(5_900);
      expect(msg).toContain(`BMC ${f.url}`);
      expect(msg).toMatch(/no answer within the request timeout/);
      expect(writes(f)).toBe(0);
    } finally {
      await f.close();
    }
  }, 40_000);
});

describe.skipIf(!labAvailable())("DpuHost: every error names the action, the resource and the BMC", () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await startLab({ count: 1, bootTimeMs: 300 });
  });
  afterAll(async () => {
    await closeAllPools();
    await lab?.stop();
  });

  it("the boot timeout names the BMC endpoint", async () => {
    const ep = lab.endpoints;
    const d = ep.dpus[0]!;
    const img = ep.images.files[0]!.name;
    await control(ep, `/bmc/${d.name}/faults`, { bootFailCount: 1 });
    const err = (await dpuHost.create!(inputsFor(ep, 0, img, { readyTimeoutMs: 3000 })).catch(
      (e: unknown) => e,
    )) as Error & { reasons?: string[] };
    expect(err).toBeInstanceOf(Error);
    const origin = new URL(d.bmc.url).origin;
    expect(err.message).toMatch(
      new RegExp(
        // The cause may first name the stage that stalled ("the BFB install stalled in the boot stage: …").
        `^create DpuHost \\(system \\S+ on BMC ${origin.replace(/[.]/g, "\\.")}\\): (.*: )?timed out after \\d+s waiting for DPU \\S+ to boot`,
      ),
    );
    expect(err.reasons?.[0]).toContain(`on BMC ${origin}`);
  }, 60_000);
});
