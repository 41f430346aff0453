import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { isSecret } from "../../engine/wire";
import { dpuWorkload } from "../../provider";
import { DPU_WORKLOAD_SECRET_OUTPUTS as PROVIDER_SECRET_OUTPUTS } from "../../provider/resources/dpu-workload.outputs";
import { DpuWorkload } from "../../sdk";
import { DPU_WORKLOAD_SECRET_OUTPUTS } from "../../sdk/dpu-workload";
import { mockRegistrations, registered } from "./sdk-mocks";

// Issue 12 item 6, the input side of "secrets leak": a command whose first word systemd reads as an ExecStart
// prefix (`+` runs it with full privileges, ignoring `user`), and secret artifacts that defaulted to 0644.
// Everything here goes through the public runtime's check() or the SDK class, as the engine would.

const KEY =
  "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n-----END OPENSSH PRIVATE KEY-----";
const connection = { host: "198.18.0.10", privateKey: KEY };
const provider = dpuWorkload;

type Failure = { property: string; reason: string };
async function check(
  news: Record<string, unknown>,
): Promise<{ inputs: Record<string, unknown>; failures: Failure[] }> {
  const r = await provider.check!({}, { connection, name: "agent", ...news });
  return { inputs: r.inputs as Record<string, unknown>, failures: (r.failures ?? []) as Failure[] };
}

describe("a command systemd would read as an ExecStart prefix", () => {
  for (const runtime of ["systemd", "process", "auto"]) {
    for (const p of ["+", "!", "!!", "-", "@", ":", "|"]) {
      it(`is refused by check(): runtime ${runtime}, command[0] ${p}/bin/sh`, async () => {
        const { failures } = await check({
          runtime,
          user: "nobody",
          command: [`${p}/bin/sh`, "-c", "id -u"],
        });
        expect(failures).toHaveLength(1);
        expect(failures[0]?.property).toBe("command[0]");
        expect(failures[0]?.reason).toMatch(/program name must start with/);
      });
    }
  }

  it("names what `+` would do, and refuses a `;` program name that would start a second command", async () => {
    const plus = await check({ runtime: "systemd", user: "nobody", command: ["+/bin/sh"] });
    expect(plus.failures[0]?.reason).toContain("full privileges, ignoring `user`");
    const semi = await check({ runtime: "systemd", command: [";", "+/bin/sh", "-c", "id"] });
    expect(semi.failures.map((f) => f.property)).toEqual(["command[0]"]);
  });

  it("accepts prefixes where they are not a program name: later arguments, a shell string, a container", async () => {
    expect(
      (await check({ runtime: "systemd", command: ["/bin/echo", "+1", "-n", ";", "@x"] })).failures,
    ).toEqual([]);
    expect((await check({ runtime: "systemd", shell: true, command: ["-x; echo +"] })).failures).toEqual([]);
    const image = { reference: "registry.example/tool:1" };
    expect((await check({ runtime: "podman", image, command: ["-c", "echo hi"] })).failures).toEqual([]);
  });
});

describe("secret artifacts default to mode 0600", () => {
  it("check() gives `secret: true` artifacts 0600, others 0644, and keeps an explicit mode", async () => {
    const { inputs, failures } = await check({
      command: ["/opt/agent/run"],
      artifacts: [
        { source: { content: "api-key-1" }, destination: "/etc/agent/key", secret: true },
        { source: { content: "level=info" }, destination: "/etc/agent/conf" },
        { source: { content: "shared-cert" }, destination: "/etc/agent/cert", secret: true, mode: "0640" },
      ],
    });
    expect(failures).toEqual([]);
    const modes = (inputs.artifacts as { mode: string }[]).map((a) => a.mode);
    expect(modes).toEqual(["0600", "0644", "0640"]);
  });

  it("check() refuses a misspelt `secret` (it would silently give 0644)", async () => {
    const { failures } = await check({
      command: ["/opt/agent/run"],
      artifacts: [{ source: { content: "k" }, destination: "/etc/agent/key", secrte: true }],
    });
    expect(failures.map((f) => f.property)).toEqual(["artifacts[0].secrte"]);
  });
});

describe("the SDK declares what the engine's stripping hides from the provider", () => {
  let seen: Map<string, Record<string, unknown>>;
  const secretOutputs = new Map<string, readonly string[]>();

  /** The plain value of a mock input (secret envelopes opened, recursively). */
  function open(v: unknown): unknown {
    if (isSecret(v)) return open(v.value);
    if (Array.isArray(v)) return v.map(open);
    if (v !== null && typeof v === "object") {
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, open(x)]));
    }
    return v;
  }

  beforeAll(async () => {
    seen = await mockRegistrations("dpu", "test");
    const capture =
      (name: string): pulumi.ResourceTransformation =>
      (a) => {
        secretOutputs.set(name, (a.opts as pulumi.CustomResourceOptions).additionalSecretOutputs ?? []);
        return undefined;
      };
    const base = { connection, name: "agent", command: ["/opt/agent/run"] };
    const resources = [
      new DpuWorkload(
        "per-artifact",
        {
          ...base,
          artifacts: [
            { source: { content: pulumi.secret("api-key-1") }, destination: "/etc/agent/key" },
            { source: { content: "level=info" }, destination: "/etc/agent/conf" },
            { source: pulumi.secret({ content: "k2" }), destination: "/etc/agent/key2" },
            pulumi.secret({ source: { content: "k3" }, destination: "/etc/agent/key3" }),
            { source: { content: pulumi.secret("k4") }, destination: "/etc/agent/k4", secret: false },
          ],
        },
        { transformations: [capture("per-artifact")] },
      ),
      new DpuWorkload("whole-list", {
        ...base,
        artifacts: pulumi.secret([{ source: { content: "k" }, destination: "/etc/agent/key" }]),
      }),
      new DpuWorkload("plain", {
        ...base,
        artifacts: [{ source: { content: "level=info" }, destination: "/etc/agent/conf" }],
      }),
    ];
    await registered(resources);
  });

  it("marks an artifact `secret: true` when its content, its source or itself is a secret Output", () => {
    const arts = open(seen.get("per-artifact")?.artifacts) as Record<string, unknown>[];
    expect(arts.map((a) => a.secret)).toEqual([true, undefined, true, true, false]);
    const whole = open(seen.get("whole-list")?.artifacts) as Record<string, unknown>[];
    expect(whole.map((a) => a.secret)).toEqual([true]);
  });

  it("sends nothing new for plain artifacts (existing state does not change)", () => {
    const arts = open(seen.get("plain")?.artifacts) as Record<string, unknown>[];
    expect(arts).toEqual([{ source: { content: "level=info" }, destination: "/etc/agent/conf" }]);
  });

  it("always marks logTail secret, and the SDK's list is the provider's", () => {
    expect(secretOutputs.get("per-artifact")).toEqual(expect.arrayContaining(["logTail", "secretEnv"]));
    expect([...DPU_WORKLOAD_SECRET_OUTPUTS]).toEqual([...PROVIDER_SECRET_OUTPUTS]);
  });
});
