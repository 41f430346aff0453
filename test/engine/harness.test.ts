import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { providerShim } from "../../sdk/provider-shim";
import {
  CheckFailedError,
  type EngineHost,
  isSecret,
  makeProgramDir,
  type ProgramDir,
  ProviderCallError,
  type ResourceSpec,
  secret,
  serializeProvider,
  startEngineHost,
  UNKNOWN,
} from "./harness";

// Proves the engine harness against a tiny fixture provider, through the real dynamic-provider host and the
// same serialized shim the SDK uses.

const FIXTURE = path.join(__dirname, "fixtures", "echo-provider");
const TYPE = "pulumi-nodejs:dynamic/test:Echo";
const TOKEN = "fixture-token-Zq81";

let program: ProgramDir;
let dataDir: string;
let eh: EngineHost;
let providerText: string;

function calls(): { method: string; payload: Record<string, unknown> }[] {
  const file = path.join(dataDir, "calls.jsonl");
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
}

function spec(
  name: string,
  inputs: Record<string, unknown>,
  extra: Partial<ResourceSpec> = {},
): ResourceSpec {
  return {
    type: TYPE,
    name,
    provider: providerText,
    inputs: inputs as ResourceSpec["inputs"],
    additionalSecretOutputs: ["serial"],
    ...extra,
  };
}

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "dpu-echo-data-"));
  program = makeProgramDir("echoproj", { "dpu-echo-provider": FIXTURE });
  providerText = (await serializeProvider(providerShim("echo", "dpu-echo-provider"))).text;
  eh = await startEngineHost({
    programDir: program.dir,
    project: "echoproj",
    config: { "fixture:dataDir": dataDir, "echoproj:greeting": "hello", "fixture:token": TOKEN },
    secretKeys: ["fixture:token"],
  });
});

afterAll(async () => {
  await eh?.close();
  program?.cleanup();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

describe("engine harness (fixture provider through the real host)", () => {
  it("runs the engine's start-up sequence and the host answers as documented", async () => {
    expect(eh.handshake).toBe("unimplemented");
    expect(eh.pluginVersion).toMatch(/^3\.\d+\.\d+/);
    const configure = eh.engine.calls.find((c) => c.method === "Configure");
    expect(configure).toBeDefined();
    // Configure is lazy in the host: the provider's configure runs with the first call on its __provider.
    await eh.engine.register(spec("warmup", { name: "warmup", size: 1 }), { preview: true });
    const conf = calls().find((c) => c.method === "configure");
    expect(conf?.payload).toEqual({ greeting: "hello", tokenIsPlainString: true });
  });

  it("preview: Check sees unknowns, nothing is created, state is unchanged", async () => {
    const mark = eh.engine.calls.length;
    const res = await eh.engine.register(spec("dev-a", { name: "dev-a", size: UNKNOWN }), { preview: true });
    expect(res.op).toBe("create");
    expect(res.outputs.size).toBe(UNKNOWN);
    expect(eh.engine.callsSince(mark).map((c) => c.method)).toEqual(["Check"]);
    expect(eh.engine.urns()).toEqual([]);
    const check = calls()
      .filter((c) => c.method === "check")
      .at(-1);
    expect((check?.payload.news as Record<string, unknown> | undefined)?.size).toBe(UNKNOWN);
  });

  it("check failures stop the resource before any other call", async () => {
    const mark = eh.engine.calls.length;
    const err = await eh.engine.register(spec("bad", { name: "bad", size: -1 })).catch((e) => e);
    expect(err).toBeInstanceOf(CheckFailedError);
    expect((err as CheckFailedError).failures).toEqual([
      { property: "size", reason: "size must be a positive number" },
    ]);
    expect(eh.engine.callsSince(mark).map((c) => c.method)).toEqual(["Check"]);
  });

  it("create: secrets stripped on the wire, re-marked in state, __provider kept", async () => {
    const res = await eh.engine.register(
      spec("dev-a", { name: "dev-a", size: 2, password: secret("pw-1234") }),
    );
    expect(res.op).toBe("create");
    const create = calls().find((c) => c.method === "create");
    expect(create?.payload.sawEnvelope).toBe(false);
    expect((create?.payload.inputs as Record<string, unknown> | undefined)?.password).toBe("pw-1234");
    const st = eh.engine.get(res.urn);
    expect(st?.id).toMatch(/^dev-dev-a-/);
    expect(isSecret(st?.inputs.password)).toBe(true);
    expect(isSecret(st?.outputs.password)).toBe(true); // annotateSecrets
    expect(isSecret(st?.outputs.serial)).toBe(true); // additionalSecretOutputs
    expect(st?.outputs.color).toBe("blue"); // default added by check
    expect(st?.outputs.createdBy).toBe("echoproj"); // project from the environment
    expect(st?.inputs.__provider).toBe(providerText);
    expect(st?.outputs.__provider).toBe(providerText);
    // The plugin's stdout travels on its own pipe, not with the gRPC reply: give it a moment to arrive.
    for (let i = 0; i < 100 && !eh.host.stdout().includes("[echo] created dev-dev-a-"); i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(eh.host.stdout()).toContain("[echo] created dev-dev-a-");
  });

  it("converged: the same inputs give DIFF_NONE and no Update", async () => {
    const mark = eh.engine.calls.length;
    const res = await eh.engine.register(
      spec("dev-a", { name: "dev-a", size: 2, password: secret("pw-1234") }),
    );
    expect(res.op).toBe("same");
    expect(res.diff?.changes).toBe("none");
    expect(eh.engine.callsSince(mark).map((c) => c.method)).toEqual(["Check", "Diff"]);
  });

  it("preview of a change plans an update without calling Update", async () => {
    const mark = eh.engine.calls.length;
    const res = await eh.engine.register(
      spec("dev-a", { name: "dev-a", size: 3, password: secret("pw-1234") }),
      {
        preview: true,
      },
    );
    expect(res.op).toBe("update");
    expect(eh.engine.callsSince(mark).map((c) => c.method)).toEqual(["Check", "Diff"]);
    expect(eh.engine.callsSince(mark).every((c) => c.preview)).toBe(true);
  });

  it("drift: refresh brings the observed value into state and the next diff shows it", async () => {
    const urn = eh.engine.urn(TYPE, "dev-a");
    const id = eh.engine.get(urn)?.id ?? "";
    fs.writeFileSync(
      path.join(dataDir, `${id}.json`),
      JSON.stringify({ name: "dev-a", size: 9, color: "blue" }),
    );
    const r = await eh.engine.refresh(urn);
    expect(r.op).toBe("refresh");
    expect(eh.engine.get(urn)?.inputs.size).toBe(9);
    expect(isSecret(eh.engine.get(urn)?.inputs.password)).toBe(true);
    const plan = await eh.engine.register(
      spec("dev-a", { name: "dev-a", size: 2, password: secret("pw-1234") }),
      {
        preview: true,
      },
    );
    expect(plan.op).toBe("update");
    const fixed = await eh.engine.register(
      spec("dev-a", { name: "dev-a", size: 2, password: secret("pw-1234") }),
    );
    expect(fixed.op).toBe("update");
    const update = calls()
      .filter((c) => c.method === "update")
      .at(-1);
    expect(update?.payload.sawEnvelope).toBe(false);
    expect(JSON.parse(fs.readFileSync(path.join(dataDir, `${id}.json`), "utf8")).size).toBe(2);
  });

  it("replace: deleteBeforeReplace deletes the old device, then creates the new one", async () => {
    const mark = eh.engine.calls.length;
    const old = eh.engine.get(eh.engine.urn(TYPE, "dev-a"));
    const renamed = spec("dev-a", { name: "dev-a2", size: 2, password: secret("pw-1234") });
    const res = await eh.engine.register(renamed);
    expect(res.op).toBe("replace");
    expect(res.diff?.replaces).toEqual(["name"]);
    expect(eh.engine.callsSince(mark).map((c) => c.method)).toEqual(["Check", "Diff", "Delete", "Create"]);
    expect(fs.existsSync(path.join(dataDir, `${old?.id}.json`))).toBe(false);
    expect(res.id).not.toBe(old?.id);
  });

  it("a create that fails after the device exists records a partial resource; the next up updates it", async () => {
    const partialSpec = spec("dev-b", { name: "dev-b", size: 1, labels: { failAfterCreate: "yes" } });
    const err = await eh.engine.register(partialSpec).catch((e) => e);
    expect(err).toBeInstanceOf(ProviderCallError);
    const id = (err as ProviderCallError).initFailed?.id;
    expect(id).toMatch(/^dev-dev-b-/);
    expect((err as ProviderCallError).initFailed?.reasons).toEqual(["device did not come up"]);
    // The engine keeps the partial resource with its init errors and the properties the provider reported.
    const urn = eh.engine.urn(TYPE, "dev-b");
    const partial = eh.engine.get(urn);
    expect(partial?.id).toBe(id);
    expect(partial?.initErrors).toEqual(["device did not come up"]);
    expect(isSecret(partial?.outputs.serial)).toBe(true); // additionalSecretOutputs apply to partial state too
    expect(JSON.stringify(partial?.outputs.serial)).toContain(`SN-${id}`);
    // Next `pulumi up`, same program: Diff finds no change, yet the engine sends Update (never a second Create).
    const mark = eh.engine.calls.length;
    const res = await eh.engine.register(partialSpec);
    expect(res.op).toBe("update");
    expect(eh.engine.callsSince(mark).map((c) => c.method)).toEqual(["Check", "Diff", "Update"]);
    expect(eh.engine.get(urn)?.initErrors).toBeUndefined();
    expect(eh.engine.get(urn)?.id).toBe(id);
    // Converged: no more updates.
    expect((await eh.engine.register(partialSpec)).op).toBe("same");
    await eh.engine.deleteUndeclared(new Set(eh.engine.urns().filter((u) => u !== urn)));
    expect(fs.existsSync(path.join(dataDir, `${id}.json`))).toBe(false);
  });

  it("removing a resource from the program deletes it; refresh of a vanished device drops it", async () => {
    await eh.engine.register(spec("dev-c", { name: "dev-c", size: 1 }));
    const c = eh.engine.get(eh.engine.urn(TYPE, "dev-c"));
    fs.rmSync(path.join(dataDir, `${c?.id}.json`));
    expect((await eh.engine.refresh(c?.urn ?? "")).op).toBe("read-gone");
    const res = await eh.engine.up([]);
    expect(res.map((r) => r.op)).toEqual(["delete"]);
    expect(eh.engine.urns()).toEqual([]);
    const deleted = calls().filter((c2) => c2.method === "delete");
    expect(deleted.length).toBeGreaterThanOrEqual(2);
  });

  it("the host never saw a secret envelope, and never logged the config secret", () => {
    const sent = eh.engine.calls.filter((c) => c.sent).map((c) => JSON.stringify(c.sent));
    expect(sent.some((s) => s.includes("4dabf18193072939515e22adb298388d"))).toBe(false);
    expect(eh.host.stdout() + eh.host.stderr()).not.toContain(TOKEN);
  });
});
