import { describe, expect, it } from "vitest";
import { z } from "zod";
import { checkInputs, UNKNOWN } from "../../provider/lifecycle";
import { dpuHost } from "../../provider/resources/dpu-host";
import { createDpuUnderlayProvider } from "../../provider/resources/dpu-underlay";
import { createDpuWorkloadProvider } from "../../provider/resources/dpu-workload";

// Issue 12 item 1: a typo anywhere in the inputs must be refused by check(), at its own path, with the closest
// valid name. Before the fix every nested object silently dropped unknown keys, so `hostkey` turned off host-key
// pinning and `image.sha265` turned off the image digest check.

const KEY =
  "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n-----END OPENSSH PRIVATE KEY-----";
const FP = `SHA256:${"A".repeat(43)}`;
const connection = { host: "198.18.0.10", privateKey: KEY, hostKey: FP };

const host = {
  bmc: { endpoint: "https://127.0.0.1:8443", username: "admin", password: "pw-123456" },
  image: { url: "http://127.0.0.1/a.iso", sha256: "a".repeat(64) },
  ready: { ssh: { host: "198.18.0.10", privateKey: KEY } },
};
const underlay = {
  connection,
  interfaces: [{ name: "p0", mtu: 9000, addresses: ["198.19.0.1/24"] }],
  safety: { rollbackAfterSeconds: 30 },
};
const workload = {
  connection,
  name: "agent",
  runtime: "process",
  command: ["/opt/agent/run"],
  artifacts: [{ source: { content: "x" }, destination: "/opt/agent/run" }],
};

type Provider = {
  check?: (olds: unknown, news: unknown) => Promise<{ failures?: { property: string; reason: string }[] }>;
};
const providers: Record<string, Provider> = {
  DpuHost: dpuHost as Provider,
  DpuUnderlay: createDpuUnderlayProvider() as Provider,
  DpuWorkload: createDpuWorkloadProvider() as Provider,
};

/** Copies `base` and renames the key at `path` (the last element) to `typo`, keeping its value. */
function withTypo(
  base: Record<string, unknown>,
  path: (string | number)[],
  typo: string,
): Record<string, unknown> {
  const copy = structuredClone(base);
  let at: Record<string | number, unknown> = copy;
  for (const k of path.slice(0, -1)) at = at[k] as Record<string | number, unknown>;
  const last = path[path.length - 1] as string;
  at[typo] = at[last];
  delete at[last];
  return copy;
}

const CASES: {
  resource: string;
  base: Record<string, unknown>;
  path: (string | number)[];
  typo: string;
  property: string;
}[] = [
  {
    resource: "DpuUnderlay",
    base: underlay,
    path: ["connection", "hostKey"],
    typo: "hostkey",
    property: "connection.hostkey",
  },
  {
    resource: "DpuWorkload",
    base: workload,
    path: ["connection", "hostKey"],
    typo: "hostkey",
    property: "connection.hostkey",
  },
  {
    resource: "DpuUnderlay",
    base: underlay,
    path: ["interfaces", 0, "addresses"],
    typo: "adresses",
    property: "interfaces[0].adresses",
  },
  {
    resource: "DpuUnderlay",
    base: underlay,
    path: ["interfaces", 0, "mtu"],
    typo: "mtuu",
    property: "interfaces[0].mtuu",
  },
  {
    resource: "DpuUnderlay",
    base: underlay,
    path: ["safety", "rollbackAfterSeconds"],
    typo: "rollbackAfterSecond",
    property: "safety.rollbackAfterSecond",
  },
  {
    resource: "DpuHost",
    base: { ...host, bmc: { ...host.bmc, insecureSkipVerify: true } },
    path: ["bmc", "insecureSkipVerify"],
    typo: "insecureSkipVerfy",
    property: "bmc.insecureSkipVerfy",
  },
  {
    resource: "DpuHost",
    base: { ...host, bmc: { ...host.bmc, caCert: "x" } },
    path: ["bmc", "caCert"],
    typo: "cacert",
    property: "bmc.cacert",
  },
  { resource: "DpuHost", base: host, path: ["image", "sha256"], typo: "sha265", property: "image.sha265" },
  {
    resource: "DpuHost",
    base: host,
    path: ["ready", "ssh", "privateKey"],
    typo: "privatekey",
    property: "ready.ssh.privatekey",
  },
  {
    resource: "DpuWorkload",
    base: workload,
    path: ["artifacts", 0, "destination"],
    typo: "destinaton",
    property: "artifacts[0].destinaton",
  },
];

describe("check() refuses unknown keys at every level, with a suggestion", () => {
  for (const c of CASES) {
    it(`${c.resource}: ${c.property}`, async () => {
      const provider = providers[c.resource] as Provider;
      const news = withTypo(c.base, c.path, c.typo);
      const result = await provider.check?.({}, news);
      const failure = result?.failures?.find((f) => f.property === c.property);
      expect(failure, JSON.stringify(result?.failures)).toBeDefined();
      const wanted = c.path[c.path.length - 1] as string;
      expect(failure?.reason).toContain(`did you mean "${wanted}"`);
    });
  }

  it("the untouched inputs pass, so each failure above is the typo alone", async () => {
    for (const [name, base] of [
      ["DpuHost", host],
      ["DpuUnderlay", underlay],
      ["DpuWorkload", workload],
    ] as const) {
      const result = await (providers[name] as Provider).check?.({}, base);
      expect(result?.failures ?? [], name).toEqual([]);
    }
  });

  it("a name far from every field lists the valid ones instead of guessing", async () => {
    const result = await (providers.DpuUnderlay as Provider).check?.(
      {},
      { ...underlay, safety: { zzzzzzzz: 1 } },
    );
    const failure = result?.failures?.find((f) => f.property === "safety.zzzzzzzz");
    expect(failure?.reason).toMatch(/valid fields here: .*rollbackAfterSeconds/);
  });

  it("inside a union of objects: an unknown field gets a suggestion from every alternative", async () => {
    const w = await (providers.DpuWorkload as Provider).check?.(
      {},
      {
        ...workload,
        artifacts: [{ source: { contnt: "x" }, destination: "/opt/agent/run" }],
      },
    );
    const f = w?.failures?.find((x) => x.property === "artifacts[0].source.contnt");
    expect(f?.reason, JSON.stringify(w?.failures)).toContain('did you mean "content"');
    const u = await (providers.DpuUnderlay as Provider).check?.(
      {},
      {
        ...underlay,
        safety: { rollbackAfterSeconds: 30, probes: [{ pnig: "198.19.0.1" }] },
      },
    );
    const g = u?.failures?.find((x) => x.property === "safety.probes[0].pnig");
    expect(g?.reason, JSON.stringify(u?.failures)).toContain('did you mean "ping"');
  });

  it("inside a union: the alternative the fields choose reports its own failures at their full paths", async () => {
    const probe = async (p: unknown) =>
      (await (providers.DpuUnderlay as Provider).check?.({}, { ...underlay, safety: { probes: [p] } }))
        ?.failures;
    // Before: "set one of { ping } | { tcp }" at safety.probes[0] for each of these.
    expect(await probe({ tcp: 5 })).toEqual([
      { property: "safety.probes[0].tcp", reason: expect.stringContaining("expected string") },
    ]);
    expect(await probe({ ping: { hots: "198.19.0.1" } })).toEqual([
      { property: "safety.probes[0].ping", reason: expect.stringContaining("expected string") },
    ]);
    const w = await (providers.DpuWorkload as Provider).check?.(
      {},
      { ...workload, artifacts: [{ source: { content: 5 }, destination: "/opt/agent/run" }] },
    );
    expect(w?.failures).toEqual([
      { property: "artifacts[0].source.content", reason: expect.stringContaining("expected string") },
    ]);
  });

  it("inside a union: a typo nested in the chosen alternative is named at its path with that alternative's fields", () => {
    // The shape the review tried: an alternative holding an object (`ping: { host }`).
    const Probe = z.union([
      z.strictObject({ ping: z.strictObject({ host: z.string(), count: z.number().optional() }) }),
      z.strictObject({ tcp: z.string() }),
    ]);
    const Schema = z.strictObject({ safety: z.strictObject({ probes: z.array(Probe) }) });
    const r = checkInputs(Schema, { safety: { probes: [{ tcp: "a:1" }, { ping: { hots: "198.19.0.1" } }] } });
    expect(r.failures).toContainEqual({
      property: "safety.probes[1].ping.hots",
      reason: 'unknown field "hots"; did you mean "host"?',
    });
    expect(r.failures.map((f) => f.property)).not.toContain("safety.probes[1]");
    // A nested unknown value during preview is not a failure.
    expect(checkInputs(Schema, { safety: { probes: [{ ping: { host: UNKNOWN } }] } }).failures).toEqual([]);
  });

  it("a field put one level too deep is named with the field it belongs next to (source.sha265 → sha256)", async () => {
    for (const source of [
      { path: "/tmp/x", sha265: "a" },
      { sha265: "a" },
      { url: "http://h/x", sha256: "a" },
    ]) {
      const w = await (providers.DpuWorkload as Provider).check?.(
        {},
        { ...workload, artifacts: [{ source, destination: "/opt/agent/run" }] },
      );
      const key = Object.keys(source).find((k) => k.startsWith("sha")) as string;
      const f = w?.failures?.find((x) => x.property === `artifacts[0].source.${key}`);
      expect(f?.reason, JSON.stringify(w?.failures)).toMatch(
        /"sha256".*a field of artifacts\[0\], one level up/,
      );
    }
  });

  it("an environment variable name that is not a POSIX name is named with the rule (not zod's 'Invalid key in record')", async () => {
    const w = await (providers.DpuWorkload as Provider).check?.(
      {},
      { ...workload, env: { "1BAD": "x", OK_1: "y" }, secretEnv: { "a-b": "z", "A B": "z" } },
    );
    const failures = w?.failures ?? [];
    expect(failures.map((f) => f.property).sort()).toEqual(["env.1BAD", "secretEnv.A B", "secretEnv.a-b"]);
    for (const f of failures) {
      const key = f.property.slice(f.property.indexOf(".") + 1);
      expect(f.reason).toContain(`invalid key ${JSON.stringify(key)}`);
      expect(f.reason).toContain("POSIX environment variable name: [A-Za-z_][A-Za-z0-9_]*");
      expect(f.reason).not.toContain("Invalid key in record");
    }
  });

  it("a preview value not known yet inside a union alternative is not a failure", async () => {
    const u = await (providers.DpuUnderlay as Provider).check?.(
      {},
      { ...underlay, safety: { rollbackAfterSeconds: 30, probes: [{ tcp: UNKNOWN }] } },
    );
    expect(u?.failures ?? []).toEqual([]);
  });

  it("inside a union of objects: fields of two alternatives together, or none, say which to choose", async () => {
    const both = await (providers.DpuWorkload as Provider).check?.(
      {},
      {
        ...workload,
        artifacts: [{ source: { content: "x", path: "/tmp/x" }, destination: "/opt/agent/run" }],
      },
    );
    const f = both?.failures?.find((x) => x.property === "artifacts[0].source");
    expect(f?.reason, JSON.stringify(both?.failures)).toMatch(
      /do not go together: content, path; use one of \{ path \}/,
    );
    const none = await (providers.DpuWorkload as Provider).check?.(
      {},
      {
        ...workload,
        artifacts: [{ source: {}, destination: "/opt/agent/run" }],
      },
    );
    const g = none?.failures?.find((x) => x.property === "artifacts[0].source");
    expect(g?.reason, JSON.stringify(none?.failures)).toMatch(/^set one of \{ path \} \| \{ content/);
  });
});
