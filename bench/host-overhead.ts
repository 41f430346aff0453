import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as pulumi from "@pulumi/pulumi";
import { ResourceProviderClient } from "@pulumi/pulumi/proto/provider_grpc_pb";
import * as pb from "@pulumi/pulumi/proto/provider_pb";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import { dpuHost } from "../provider/resources/dpu-host";
import { providerShim } from "../sdk/provider-shim";
import { percentile } from "./lab";
import { startBenchHost } from "./plugin-host";

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

  const host = await startBenchHost(root);
  const hostStartMs = host.startMs;
  const client = new ResourceProviderClient(`127.0.0.1:${host.port}`, grpc.credentials.createInsecure());
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
    await host.close();
  }
}
