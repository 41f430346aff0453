import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { get as httpGet, request as httpRequest } from "node:http";
import { createServer, get as httpsGet } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ensureStandardImages,
  inspectImage,
  makeBfb,
  makeIso,
  startImageServer,
} from "../../simulator/images";
import { createLabPki } from "../../simulator/tls";

const run = promisify(execFile);
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "sim-img-"));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

describe("images", () => {
  it("makeIso builds a real ISO9660 image xorriso can read, with /DPU/RELEASE", async () => {
    const iso = await makeIso({ label: "DPUOS_9_9", files: { "/etc/motd": "hello\n" } });
    expect(inspectImage(iso)).toEqual({ kind: "iso", label: "DPUOS_9_9" });
    const path = join(dir, "t.iso");
    await writeFile(path, iso);
    const out = join(dir, "RELEASE");
    await run("xorriso", ["-osirrox", "on", "-indev", path, "-extract", "/DPU/RELEASE", out]);
    expect(await readFile(out, "utf8")).toContain("LABEL=DPUOS_9_9\n");
    const { stdout } = await run("xorriso", ["-indev", path, "-pvd_info"]);
    expect(stdout).toMatch(/Volume Id\s*:\s*DPUOS_9_9/);
  });

  it("makeBfb round-trips and corruption is detected", () => {
    const bfb = makeBfb({ name: "bf-bundle-9.1", version: "9.1" });
    expect(bfb.subarray(0, 4)).toEqual(Buffer.from("Bf\x02\x13", "latin1"));
    expect(inspectImage(bfb)).toEqual({ kind: "bfb", label: "bf-bundle-9.1" });
    const flipped = Buffer.from(bfb);
    flipped[flipped.length - 1] = (flipped[flipped.length - 1] ?? 0) ^ 0xff;
    expect(() => inspectImage(flipped)).toThrow(/checksum/);
    expect(() => inspectImage(bfb.subarray(0, bfb.length - 10))).toThrow(/corrupt BFB/);
  });

  it("inspectImage rejects garbage and truncated ISOs with clear errors", async () => {
    expect(() => inspectImage(Buffer.from("hello"))).toThrow(/unknown image format/);
    expect(() => inspectImage(Buffer.alloc(64 * 1024, 0x41))).toThrow(/CD001/);
    const iso = await makeIso({ label: "X" });
    expect(() => inspectImage(iso.subarray(0, 40 * 1024))).toThrow(/exceeds image size/);
  });

  it("ensureStandardImages + image server: sizes, digests, labels, 404, HEAD", async () => {
    const imgDir = join(dir, "std");
    const files = await ensureStandardImages(imgDir);
    const byName = Object.fromEntries(files.map((f) => [f.name, f]));
    expect(byName["dpu-os-1.0.iso"]?.label).toBe("DPUOS_1_0");
    expect(byName["dpu-os-2.0.iso"]?.label).toBe("DPUOS_2_0");
    expect(byName["bf-bundle-4.10.bfb"]).toMatchObject({ kind: "bfb", label: "bf-bundle-4.10" });
    expect(byName["corrupt.iso"]?.kind).toBe("other");
    const again = await ensureStandardImages(imgDir);
    expect(again.map((f) => f.sha256)).toEqual(files.map((f) => f.sha256));
    const srv = await startImageServer({ dir: imgDir });
    try {
      const info = srv.files().find((f) => f.name === "dpu-os-1.1.iso");
      expect(info?.url).toBe(`${srv.baseUrl}/dpu-os-1.1.iso`);
      const body = await new Promise<{ status: number; len: string | undefined; bytes: Buffer }>(
        (resolve, reject) => {
          httpGet(`${srv.baseUrl}/dpu-os-1.1.iso`, (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("end", () =>
              resolve({
                status: res.statusCode ?? 0,
                len: res.headers["content-length"],
                bytes: Buffer.concat(chunks),
              }),
            );
          }).on("error", reject);
        },
      );
      expect(body.status).toBe(200);
      expect(Number(body.len)).toBe(info?.sizeBytes);
      expect(inspectImage(body.bytes).label).toBe("DPUOS_1_1");
      expect(srv.hits("dpu-os-1.1.iso")).toBe(1);
      const status = (path: string, method = "GET") =>
        new Promise<{ status: number; len?: string }>((resolve, reject) => {
          const req = httpRequest(`${srv.baseUrl}${path}`, { method }, (res) => {
            res.resume();
            resolve({ status: res.statusCode ?? 0, len: res.headers["content-length"] });
          });
          req.on("error", reject);
          req.end();
        });
      expect((await status("/missing.iso")).status).toBe(404);
      expect((await status("/../etc/passwd")).status).toBe(404);
      expect(await status("/dpu-os-1.1.iso", "HEAD")).toEqual({ status: 200, len: String(info?.sizeBytes) });
      expect((await status("/dpu-os-1.1.iso", "DELETE")).status).toBe(405);
      const added = await srv.addImage("extra.bfb", makeBfb({ name: "extra", version: "1" }));
      expect(added).toMatchObject({ kind: "bfb", label: "extra" });
      expect(srv.files().map((f) => f.name)).toContain("extra.bfb");
    } finally {
      await srv.close();
    }
  });
});

describe("tls", () => {
  it("createLabPki issues a server cert for 127.0.0.1, ::1 and localhost signed by the CA", async () => {
    const pki = await createLabPki(join(dir, "pki"));
    expect(pki.caPem).toContain("BEGIN CERTIFICATE");
    const srv = createServer({ key: pki.key, cert: pki.cert }, (_req, res) => res.end("ok"));
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
    const port = (srv.address() as AddressInfo).port;
    try {
      for (const host of ["127.0.0.1", "localhost"]) {
        const text = await new Promise<string>((resolve, reject) => {
          const opts = { host: "127.0.0.1", port, ca: pki.caPem, path: "/", agent: false };
          httpsGet(host === "localhost" ? { ...opts, servername: "localhost" } : opts, (res) => {
            let t = "";
            res.on("data", (c: Buffer) => {
              t += c.toString();
            });
            res.on("end", () => resolve(t));
          }).on("error", reject);
        });
        expect(text).toBe("ok");
      }
      const { stdout } = await run("openssl", [
        "x509",
        "-noout",
        "-ext",
        "subjectAltName",
        "-in",
        join(dir, "pki", "server.pem"),
      ]);
      expect(stdout).toMatch(/IP Address:127\.0\.0\.1/);
      expect(stdout).toMatch(/IP Address:0:0:0:0:0:0:0:1/);
      expect(stdout).toMatch(/DNS:localhost/);
      // An untrusted client fails: the chain really depends on the CA.
      await expect(
        new Promise((resolve, reject) =>
          httpsGet({ host: "127.0.0.1", port, agent: false }, resolve).on("error", reject),
        ),
      ).rejects.toThrow();
    } finally {
      srv.close();
    }
  });
});
