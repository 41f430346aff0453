import { mkdtemp, rm } from "node:fs/promises";
import { type Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type CreateBmcOptions, createBmc } from "../../simulator/bmc";
import type { BmcProfileName, ImageFileInfo, SimBmc } from "../../simulator/contracts";
import { ensureStandardImages, type ImageServer, startImageServer } from "../../simulator/images";
import { createLabPki, type LabPki } from "../../simulator/tls";
import { skipUnless } from "../capabilities";
import { SHARED_ROOT } from "../shared-material";
import { FakeBackend } from "./fake-backend";

/** Reference material shared by every helper (schemas, Base registry). */
export const SHARED = join(SHARED_ROOT, "redfish");

/** Fails loudly in CI when ../shared is missing; returns false (skip) elsewhere. */
export function sharedAvailable(): boolean {
  return !skipUnless("the Redfish schema/registry tests", "redfish-schemas");
}

/** A lab for BMC tests: PKI, image server with the standard images, BMCs to close. */
export interface Lab {
  readonly dir: string;
  readonly pki: LabPki;
  readonly images: ImageServer;
  readonly files: ImageFileInfo[];
  url(name: string): string;
  bmc(
    profile: BmcProfileName,
    extra?: Partial<CreateBmcOptions>,
  ): Promise<{ bmc: SimBmc; backend: FakeBackend }>;
  close(): Promise<void>;
}

/** Credentials of the lab BMCs (test-only values). */
export const USER = "root";
export const PASS = "lab-password-1";

/** Starts a lab in a temp dir. */
export async function startLab(): Promise<Lab> {
  const dir = await mkdtemp(join(tmpdir(), "sim-bmc-"));
  const pki = await createLabPki(join(dir, "pki"));
  const imgDir = join(dir, "images");
  await ensureStandardImages(imgDir);
  const images = await startImageServer({ dir: imgDir });
  const bmcs: SimBmc[] = [];
  let n = 0;
  return {
    dir,
    pki,
    images,
    files: images.files(),
    url: (name) => `${images.baseUrl}/${name}`,
    async bmc(profile, extra = {}) {
      const backend = (extra.backend as FakeBackend | undefined) ?? new FakeBackend(`dpu-${n++}`);
      const bmc = await createBmc({
        name: backend.name,
        profile,
        backend,
        tls: { key: pki.key, cert: pki.cert },
        caFile: pki.caFile,
        username: USER,
        password: PASS,
        bootTimeMs: 0,
        ...extra,
      });
      bmcs.push(bmc);
      return { bmc, backend };
    },
    async close() {
      await Promise.all(bmcs.map((b) => b.close()));
      await images.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A response as tests see it. */
export interface Res {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  // biome-ignore lint/suspicious/noExplicitAny: test convenience for reading JSON bodies
  readonly json: any;
}

/** Request options. */
export interface ReqOpts {
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
  /** `basic` (default), `none`, or a session token. */
  readonly auth?: "basic" | "none" | { token: string };
  readonly user?: string;
  readonly pass?: string;
  /** A keep-alive agent to reuse connections (default: none, one connection per request). */
  readonly agent?: HttpsAgent;
}

/** One plain HTTPS request to a BMC (no provider code), trusting the lab CA, no keep-alive. */
export function rf(bmc: SimBmc, ca: string, method: string, path: string, opts: ReqOpts = {}): Promise<Res> {
  const headers: Record<string, string> = { Accept: "application/json", ...opts.headers };
  const auth = opts.auth ?? "basic";
  if (auth === "basic") {
    headers.Authorization = `Basic ${Buffer.from(`${opts.user ?? USER}:${opts.pass ?? PASS}`).toString("base64")}`;
  } else if (auth !== "none") headers["X-Auth-Token"] = auth.token;
  let payload: Buffer | undefined;
  if (opts.body !== undefined) {
    payload = Buffer.from(typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body));
    headers["Content-Type"] = "application/json";
    headers["Content-Length"] = String(payload.length);
  }
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      new URL(path, bmc.url),
      { method, headers, ca, agent: opts.agent ?? false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let json: unknown;
          try {
            json = text ? JSON.parse(text) : undefined;
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

/** Polls `fn` until it returns a truthy value (bounded). */
export async function waitFor<T>(fn: () => Promise<T> | T, what: string, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
