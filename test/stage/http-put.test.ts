import { createHash } from "node:crypto";
import { rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStage, StageError } from "../../provider/stage";
import { bfbAndTail, captureLog, freePort, testLog } from "./helpers";

const fx = bfbAndTail();
const USER = "stager";
const PASSWORD = "s3cret-Stage-Pw";

/** A small PUT/GET/DELETE server with Basic authentication on writes (nginx dav_methods-like). */
const store = new Map<string, Buffer>();
const requests: string[] = [];
let server: Server;
let port: number;

beforeAll(async () => {
  port = await freePort();
  server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const path = req.url ?? "/";
    const authorized =
      req.headers.authorization === `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString("base64")}`;
    if (req.method === "GET") {
      const body = store.get(path);
      if (body === undefined) res.writeHead(404).end();
      else res.writeHead(200, { "content-length": body.length }).end(body);
      return;
    }
    if (!authorized) {
      req.resume();
      res.writeHead(401, { "www-authenticate": 'Basic realm="stage"' }).end();
      return;
    }
    if (req.method === "PUT") {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        store.set(path, Buffer.concat(chunks));
        res.writeHead(201).end();
      });
      return;
    }
    if (req.method === "DELETE") {
      res.writeHead(store.delete(path) ? 204 : 404).end();
      return;
    }
    res.writeHead(405).end();
  });
  await new Promise<void>((r) => server.listen(port, "127.0.0.1", () => r()));
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(fx.dir, { recursive: true, force: true });
});

describe("HTTP PUT image stage", () => {
  it("uploads `cat <BFB> bf.cfg` by digest, hands out the fetch URL, deletes it on close, logs no credentials", async () => {
    const base = `http://127.0.0.1:${port}/images`;
    const { error, lines } = await captureLog(async () => {
      const stage = await openStage(
        {
          kind: "httpPut",
          url: base,
          fetchUrl: `http://images.lab/images`,
          username: USER,
          password: PASSWORD,
        },
        testLog,
      );
      const obj = await stage.publish("dpu-0.bfb", [{ file: fx.bfb }, { bytes: fx.tail }]);
      expect(obj.sha256).toBe(fx.catSha256);
      expect(obj.url).toBe(`http://images.lab/images/${fx.catSha256}-dpu-0.bfb`);
      const stored = store.get(`/images/${fx.catSha256}-dpu-0.bfb`);
      expect(stored && createHash("sha256").update(stored).digest("hex")).toBe(fx.catSha256);
      await stage.close();
      expect(store.has(`/images/${fx.catSha256}-dpu-0.bfb`)).toBe(false);
    });
    expect(error).toBeUndefined();
    expect(requests).toContain(`DELETE /images/${fx.catSha256}-dpu-0.bfb`);
    const all = lines.join("\n");
    expect(all).toContain("uploaded");
    expect(all).not.toContain(PASSWORD);
    expect(all).not.toContain(Buffer.from(`${USER}:${PASSWORD}`).toString("base64"));
  });

  it("a refused upload (wrong password) is a clear error without the password", async () => {
    const stage = await openStage(
      {
        kind: "httpPut",
        url: `http://127.0.0.1:${port}/images`,
        username: USER,
        password: "wrong-Password-9",
      },
      testLog,
    );
    const err = await stage.publish("seed.iso", [{ bytes: Buffer.from("iso") }]).catch((e: unknown) => e);
    await stage.close();
    expect(err).toBeInstanceOf(StageError);
    expect((err as Error).message).toMatch(
      /upload [0-9a-f]{64}-seed\.iso to image stage http:\/\/127\.0\.0\.1:\d+\/images: HTTP 401/,
    );
    expect((err as Error).message).toMatch(/nothing was sent to the BMC/);
    expect((err as Error).message).not.toContain("wrong-Password-9");
  });

  it("an unreachable target is a clear error naming it", async () => {
    const dead = await freePort();
    const stage = await openStage(
      { kind: "httpPut", url: `http://127.0.0.1:${dead}/images`, username: USER, password: PASSWORD },
      testLog,
    );
    const err = await stage.publish("seed.iso", [{ bytes: Buffer.from("iso") }]).catch((e: unknown) => e);
    await stage.close();
    expect(err).toBeInstanceOf(StageError);
    expect((err as Error).message).toMatch(
      new RegExp(`image stage http://127\\.0\\.0\\.1:${dead}/images: .*ECONNREFUSED`),
    );
    expect((err as Error).message).not.toContain(PASSWORD);
  });
});
