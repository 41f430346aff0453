import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { DPU_HOST_SECRET_INPUTS } from "../../provider/resources/dpu-host";
import { DPU_UNDERLAY_SECRET_INPUTS } from "../../provider/resources/dpu-underlay.schema";
import { DPU_WORKLOAD_SECRET_INPUTS } from "../../provider/resources/dpu-workload";
import { DpuHost, DpuUnderlay, DpuWorkload } from "../../sdk";
import { DPU_HOST_SECRET_PATHS } from "../../sdk/dpu-host";
import { DPU_UNDERLAY_SECRET_PATHS } from "../../sdk/dpu-underlay";
import { DPU_WORKLOAD_SECRET_PATHS } from "../../sdk/dpu-workload";
import { markSecretInputs } from "../../sdk/secret-inputs";
import { skipOrFail, skipUnless } from "../capabilities";
import { isSecret, linkModules, REPO_ROOT, serializeProvider } from "./harness";

// The `__provider` text the SDK puts in state: tiny, stable, secret-free, loadable from a program directory.

const PASSWORD = "bmc-pass-Hx81q"; // a secret input; must never appear in __provider
const KEY =
  "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAAb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n-----END OPENSSH PRIVATE KEY-----";
const FLEET_DIR = path.join(REPO_ROOT, "examples", "fleet");

interface Seen {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}

const seen: Seen[] = [];

function providerOf(s: Seen | undefined): string {
  const p = s?.inputs.__provider;
  if (typeof p !== "string")
    throw new Error(`__provider is not a plain string: ${JSON.stringify(p)?.slice(0, 80)}`);
  return p;
}

beforeAll(async () => {
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        seen.push({ type: args.type, name: args.name, inputs: args.inputs });
        return { id: `${args.name}-id`, state: args.inputs };
      },
      call: () => ({}),
    },
    "dpufleet",
    "test",
  );
  const connection = { host: "127.0.0.1", privateKey: KEY };
  const resources = [
    new DpuHost("h0", {
      bmc: { endpoint: "https://127.0.0.1:1", password: PASSWORD },
      image: { url: "http://x/a.iso" },
    } as never),
    new DpuHost("h1", {
      bmc: { endpoint: "https://127.0.0.1:2", password: pulumi.secret(PASSWORD) },
      image: { url: "http://x/a.iso" },
    } as never),
    new DpuUnderlay("u0", { connection }),
    new DpuWorkload("w0", {
      connection,
      name: "agent",
      command: ["/bin/true"],
      secretEnv: { TOKEN: PASSWORD },
    }),
  ];
  await Promise.all(resources.map((r) => new Promise((resolve) => r.urn.apply(resolve))));
});

describe("serialized provider (__provider)", () => {
  it("is small, the same for every resource of a type, and holds no secret", () => {
    const [h0, h1, u0, w0] = ["h0", "h1", "u0", "w0"].map((n) => seen.find((s) => s.name === n));
    const host = providerOf(h0);
    expect(providerOf(h1)).toBe(host);
    const texts = { DpuHost: host, DpuUnderlay: providerOf(u0), DpuWorkload: providerOf(w0) };
    for (const [type, text] of Object.entries(texts)) {
      const bytes = Buffer.byteLength(text);
      console.log(`__provider of ${type}: ${bytes} bytes`);
      expect(bytes).toBeLessThan(3072);
      expect(text).not.toContain(PASSWORD);
      expect(text).not.toContain("PRIVATE KEY");
      expect(text).toContain('"pulumi-dpu/provider"');
    }
    expect(texts.DpuUnderlay).toContain('"dpuUnderlay"');
    expect(texts.DpuWorkload).toContain('"dpuWorkload"');
  });

  it("inlines no library code: no module requires besides the runtime one, no SDK or bundler internals", () => {
    const text = providerOf(seen.find((s) => s.name === "h0"));
    const requires = [...text.matchAll(/require\(([^)]*)\)/g)].map((m) => m[1]);
    expect(requires).toEqual(["moduleId"]);
    for (const marker of ["__vite_ssr", "undici", "ssh2", "zod", "@pulumi", "Symbol(", "Buffer", "new Map"]) {
      expect(text).not.toContain(marker);
    }
    // 8 functions: the handler, 7 methods sharing one delegate.
    expect(text.match(/^function __f\d+\(/gm)?.length).toBeLessThanOrEqual(9);
  });

  it("keeps secret inputs secret, leaf by leaf on the wire, whole-property for secretEnv", async () => {
    // What the SDK sends the engine (the mocks deserialize, which lifts nested secrets to the parent object).
    const marked = markSecretInputs(
      { bmc: { endpoint: "https://127.0.0.1:1", password: PASSWORD }, image: { url: "http://x/a.iso" } },
      DPU_HOST_SECRET_PATHS,
    );
    const wire = await pulumi.runtime.serializeProperties("test", marked.props);
    expect(isSecret(wire.bmc.password)).toBe(true);
    expect(wire.bmc.endpoint).toBe("https://127.0.0.1:1");
    expect(marked.additionalSecretOutputs).toEqual([]);
    // Through a registration: every copy of the password is inside a secret envelope.
    for (const name of ["h0", "h1"]) {
      const bmc = seen.find((s) => s.name === name)?.inputs.bmc;
      expect(isSecret(bmc)).toBe(true);
    }
    const w0 = seen.find((s) => s.name === "w0");
    expect(isSecret(w0?.inputs.secretEnv)).toBe(true);
    expect(isSecret(w0?.inputs.connection)).toBe(true);
    // __provider itself is not secret: nothing secret was captured.
    expect(typeof w0?.inputs.__provider).toBe("string");
  });

  it("the SDK's secret paths are the provider's", () => {
    expect([...DPU_HOST_SECRET_PATHS].sort()).toEqual([...DPU_HOST_SECRET_INPUTS].sort());
    expect([...DPU_UNDERLAY_SECRET_PATHS].sort()).toEqual([...DPU_UNDERLAY_SECRET_INPUTS].sort());
    expect([...DPU_WORKLOAD_SECRET_PATHS].sort()).toEqual([...DPU_WORKLOAD_SECRET_INPUTS].sort());
  });

  it("the production build serializes to the same small text (tsc output, loaded natively)", async (ctx) => {
    const dist = path.join(REPO_ROOT, "dist", "sdk", "provider-shim.js");
    if (!fs.existsSync(dist) || skipUnless("the production-build serialization test", "dist")) {
      ctx.skip(); // dist/ not built (npm test builds it first); under CI skipUnless throws instead
      return;
    }
    const { providerShim } = createRequire(__filename)(dist) as typeof import("../../sdk/provider-shim");
    const { text } = await serializeProvider(providerShim("dpuHost"));
    console.log(`__provider of DpuHost from dist/: ${Buffer.byteLength(text)} bytes`);
    expect(Buffer.byteLength(text)).toBeLessThan(3072);
    expect([...text.matchAll(/require\(([^)]*)\)/g)].map((m) => m[1])).toEqual(["moduleId"]);
  });

  it("loads in a fresh node process started in examples/fleet and reaches the provider through pulumi-dpu", () => {
    linkModules(FLEET_DIR);
    const text = providerOf(seen.find((s) => s.name === "h0"));
    // What the dynamic-provider host does: compile the text as a module whose require resolves from the cwd.
    const script = `
      const Module = require("node:module");
      let text = ""; process.stdin.setEncoding("utf8");
      process.stdin.on("data", (d) => (text += d));
      process.stdin.on("end", async () => {
        const m = new Module("", null);
        m.paths = Module._nodeModulePaths(process.cwd());
        m._compile(text, "");
        const p = m.exports.handler();
        const methods = Object.keys(p).sort();
        let provider = "not-built";
        try { require.resolve("pulumi-dpu/provider", { paths: [process.cwd()] }); provider = "resolvable"; } catch {}
        let check = null;
        if (provider === "resolvable") {
          try {
            await p.configure({ config: { get: () => undefined, require: () => { throw new Error("x"); } } });
            const r = await p.check({}, {});
            check = { failures: (r.failures || []).length };
          } catch (e) { check = { error: String(e.message).slice(0, 200) }; }
        }
        process.stdout.write(JSON.stringify({ methods, provider, check }));
      });`;
    const res = spawnSync(process.execPath, ["-e", script], {
      cwd: FLEET_DIR,
      input: text,
      encoding: "utf8",
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/root" },
      timeout: 30_000,
    });
    expect(res.status, res.stderr).toBe(0);
    const out = JSON.parse(res.stdout) as { methods: string[]; provider: string; check: unknown };
    expect(out.methods).toEqual(["check", "configure", "create", "delete", "diff", "read", "update"]);
    if (out.provider !== "resolvable") {
      skipOrFail("the delegation half", "pulumi-dpu/provider is not built (dist/): run `npm run build`");
      return;
    }
    // An empty DpuHost fails its checks: the call went through the shim into the real provider.
    expect(out.check).toMatchObject({ failures: expect.any(Number) });
    expect((out.check as { failures: number }).failures).toBeGreaterThan(0);
  });
});
