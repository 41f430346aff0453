import { describe, expect, test } from "vitest";
import { diffInputs } from "../../provider/lifecycle";
import * as providerModule from "../../provider/resources/dpu-workload";
import {
  DPU_WORKLOAD_INPUT_KEYS,
  DpuWorkloadInputsSchema,
  dpuWorkloadFieldRules,
} from "../../provider/resources/dpu-workload.schema";

const base = {
  connection: { host: "198.18.0.10", privateKey: "k" },
  name: "app",
  command: ["/usr/bin/app"],
};

async function failures(news: Record<string, unknown>) {
  return (await providerModule.dpuWorkload.check!({}, news)).failures;
}

describe("DpuWorkload schema", () => {
  test("defaults and a valid input", async () => {
    expect(await failures(base)).toEqual([]);
    const p = DpuWorkloadInputsSchema.parse(base);
    expect(p).toMatchObject({
      runtime: "auto",
      restart: "on-failure",
      state: "running",
      env: {},
      secretEnv: {},
    });
  });

  test("rejects what cannot be deployed safely, with paths", async () => {
    expect(await failures({ ...base, name: "Bad_Name" })).toEqual([
      expect.objectContaining({ property: "name" }),
    ]);
    expect(await failures({ ...base, command: ["a\nb"] })).toEqual([
      expect.objectContaining({ property: "command[0]" }),
    ]);
    expect(await failures({ ...base, shell: true, command: ["a", "b"] })).toEqual([
      expect.objectContaining({ property: "command", reason: expect.stringContaining("one shell string") }),
    ]);
    expect(await failures({ ...base, env: { "1X": "v" } })).not.toEqual([]);
    expect(await failures({ ...base, env: { A: "1" }, secretEnv: { A: "2" } })).toEqual([
      expect.objectContaining({ property: "secretEnv.A" }),
    ]);
    expect(await failures({ ...base, health: { tcpPort: 80, command: ["true"] } })).toEqual([
      expect.objectContaining({ property: "health", reason: expect.stringContaining("exactly one") }),
    ]);
    expect(
      await failures({
        ...base,
        artifacts: [{ source: { content: "x" }, destination: "/opt/../etc/passwd" }],
      }),
    ).toEqual([expect.objectContaining({ property: "artifacts[0].destination" })]);
    expect(await failures({ ...base, runtime: "systemd", image: { reference: "app:1" } })).toEqual([
      expect.objectContaining({ property: "image" }),
    ]);
  });

  test("field rules: name/runtime replace, env/artifacts/triggers update in place, credentials are no-ops", () => {
    const olds = DpuWorkloadInputsSchema.parse(base) as unknown as Record<string, unknown>;
    const diff = (patch: Record<string, unknown>) =>
      diffInputs(
        olds,
        DpuWorkloadInputsSchema.parse({ ...base, ...patch }) as unknown as Record<string, unknown>,
        DPU_WORKLOAD_INPUT_KEYS,
        dpuWorkloadFieldRules,
      );
    expect(diff({ name: "app2" }).replaces).toEqual(["name"]);
    expect(diff({ runtime: "process" }).replaces).toEqual(["runtime"]);
    for (const patch of [{ env: { A: "1" } }, { command: ["/usr/bin/app", "-v"] }, { triggers: [1] }]) {
      const d = diff(patch);
      expect(d.changes).toBe(true);
      expect(d.replaces).toEqual([]);
    }
    const rotate = diff({ connection: { host: "198.18.0.10", privateKey: "k2" } });
    expect(rotate.changed.every((c) => c.noHardwareAction)).toBe(true);
  });

  test("the provider is exported as dpuWorkload", () => {
    expect(typeof providerModule.dpuWorkload.create).toBe("function");
    expect(typeof providerModule.dpuWorkload.read).toBe("function");
  });
});
