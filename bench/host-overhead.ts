/**
 * The dynamic-provider host: what a call costs between the engine and our provider. Spawns the real
 * `pulumi-resource-pulumi-nodejs` plugin from a throwaway program directory (as the engine does), sends Check
 * and Diff calls carrying the serialized `__provider` over gRPC, and compares with the same calls made
 * in-process. Also measures `serializeFunction` of the provider shim (what every `pulumi up` pays per type).
 * Needs the built package (`dist/provider`): `npm run bench` builds first.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as pulumi from "@pulumi/pulumi";
import { ResourceProviderClient } from "@pulumi/pulumi/proto/provider_grpc_pb";
import * as pb from "@pulumi/pulumi/proto/provider_pb";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import { dpuHost } from "../provider/resources/dpu-host";
import { providerShim } from "../sdk/provider-shim";
import { percentile } from "./lab";

/** What the host benchmark measured (ms unless named otherwise). */
export interface HostOverheadResult {
  readonly calls: number;
  readonly check: { hostP50: number; hostP95: number; inProcessP50: number; overheadP50: number };
  readonly diff: { hostP50: number; hostP95: number; inProcessP50: number; overheadP50: number };
  /** `pulumi.runtime.serializeFunction` of the DpuHost shim: time and size. */
  readonly serialize: { ms: number; bytes: number };
  /** Size of one Check request on the wire (inputs + `__provider`), bytes. */
  readonly checkRequestBytes: number;
  /** Time from spawn to the host's port line, ms. */
  readonly hostStartMs: number;
}

/** The repository root (holds package.json of pulumi-dpu), from this file in bench/ or build/bench/bench/. */
export function repoRoot(): string {
  let d = __dirname;
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(d, "package.json")) && existsSync(join(d, "provider"))) return d;
    d = dirname(d);
  }
  throw new Error(`cannot find the repository root above ${__dirname}`);
}

function programDir(root: string): string {
  const dir = mkdtempSync(join(tmpdir(), "dpu-bench-program-"));
  writeFileSync(join(dir, "Pulumi.yaml"), "name: bench\nruntime: nodejs\n");
  writeFileSync(join(dir, "package.json"), '{"name":"bench","private":true}\n');
  mkdirSync(join(dir, "node_modules"));
  symlinkSync(join(root, "node_modules", "@pulumi"), join(dir, "node_modules", "@pulumi"), "dir");
  symlinkSync(root, join(dir, "node_modules", "pulumi-dpu"), "dir");
  return dir;
}

async function spawnHost(dir: string): Promise<{ child: ChildProcess; port: number }> {
  const script = createRequire(join(dir, "x.js")).resolve("@pulumi/pulumi/pulumi-resource-pulumi-nodejs");
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ""}`,
    PULUMI_NODEJS_PROJECT: "bench",
    PULUMI_PROJECT: "bench",
    PULUMI_NODEJS_STACK: "bench",
    PULUMI_STACK: "bench",
    PULUMI_CONFIG: "{}",
  };
  delete env.NODE_OPTIONS;
  delete env.VITEST;
  delete env.VITEST_WORKER_ID;
  const child = spawn("sh", [script, "127.0.0.1:1"], {
    cwd: dir,
    env,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  child.stderr?.setEncoding("utf8").on("data", (d: string) => {
    err += d;
  });
  const port = await new Promise<number>((resolve, reject) => {
    let buf = "";
    const timer = setTimeout(() => reject(new Error(`host did not start: ${err.slice(0, 500)}`)), 30_000);
    child.once("exit", (c) => reject(new Error(`host exited with ${c}: ${err.slice(0, 500)}`)));
    child.stdout?.setEncoding("utf8").on("data", (d: string) => {
      buf += d;
      const nl = buf.indexOf("\n");
      if (nl < 0) return;
      clearTimeout(timer);
      resolve(Number(buf.slice(0, nl).trim()));
    });
  });
  return { child, port };
}

function call<Req, Res>(
  fn: (req: Req, cb: (e: grpc.ServiceError | null, r: Res) => void) => unknown,
  req: Req,
): Promise<Res> {
  return new Promise((resolve, reject) => fn(req, (e, r) => (e ? reject(e) : resolve(r))));
}

const toStruct = (v: Record<string, unknown>) =>
  Struct.fromJavaScript(v as Parameters<typeof Struct.fromJavaScript>[0]);

/** Runs the benchmark: `calls` Check and Diff calls each, through the host and in-process. */
export async function benchHostOverhead(calls = 200): Promise<HostOverheadResult> {
  const root = repoRoot();
  if (!existsSync(join(root, "dist", "provider", "index.js"))) {
    throw new Error("dist/provider is not built: run `npm run build` (npm run bench does) first");
  }
  const shim = providerShim("dpuHost");
  const s0 = performance.now();
  const sf = await pulumi.runtime.serializeFunction(() => shim, { allowSecrets: true });
  const serializeMs = performance.now() - s0;
  const news = {
    bmc: { endpoint: "https://127.0.0.1:9", username: "admin", password: "bench-not-a-secret" },
    image: { url: "http://127.0.0.1:9/dpu-os-1.1.iso", sha256: "a".repeat(64) },
    ready: { timeoutMs: 60_000 },
  };
  const checked = ((await dpuHost.check!({}, news)).inputs ?? {}) as Record<string, unknown>;
  const olds = { ...checked, systemId: "1", powerState: "On", macs: {}, osRelease: {} };

  const dir = programDir(root);
  const t0 = performance.now();
  const { child, port } = await spawnHost(dir);
  const hostStartMs = performance.now() - t0;
  const client = new ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  try {
    await call(
      client.configure.bind(client),
      new pb.ConfigureRequest().setArgs(toStruct({})).setAcceptsecrets(true).setAcceptresources(true),
    );
    const urn = "urn:pulumi:bench::bench::pulumi-nodejs:dynamic:Resource::h";
    const checkReq = () =>
      new pb.CheckRequest()
        .setUrn(urn)
        .setOlds(toStruct({}))
        .setNews(toStruct({ ...news, __provider: sf.text }));
    const diffReq = () =>
      new pb.DiffRequest()
        .setUrn(urn)
        .setId("h")
        .setOlds(toStruct({ ...olds, __provider: sf.text }))
        .setNews(toStruct({ ...checked, __provider: sf.text }));
    const measure = async (fn: () => Promise<unknown>): Promise<number[]> => {
      for (let i = 0; i < 20; i++) await fn(); // warm up (module loads, JIT)
      const out: number[] = [];
      for (let i = 0; i < calls; i++) {
        const t = performance.now();
        await fn();
        out.push(performance.now() - t);
      }
      return out;
    };
    const hostCheck = await measure(() => call(client.check.bind(client), checkReq()));
    const hostDiff = await measure(() => call(client.diff.bind(client), diffReq()));
    const localCheck = await measure(() => dpuHost.check!({}, news));
    const localDiff = await measure(() => dpuHost.diff!("h", olds as never, checked as never));
    const r = (v: number) => Math.round(v * 100) / 100;
    const summary = (host: number[], local: number[]) => ({
      hostP50: r(percentile(host, 50)),
      hostP95: r(percentile(host, 95)),
      inProcessP50: r(percentile(local, 50)),
      overheadP50: r(percentile(host, 50) - percentile(local, 50)),
    });
    return {
      calls,
      check: summary(hostCheck, localCheck),
      diff: summary(hostDiff, localDiff),
      serialize: { ms: r(serializeMs), bytes: Buffer.byteLength(sf.text) },
      checkRequestBytes: checkReq().serializeBinary().length,
      hostStartMs: Math.round(hostStartMs),
    };
  } finally {
    client.close();
    try {
      if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
    } catch {
      // gone
    }
    rmSync(dir, { recursive: true, force: true });
  }
}
