import type * as pulumi from "@pulumi/pulumi";
import * as fc from "fast-check";
import { describe, expect, it } from "vitest";
import { UNKNOWN } from "../../provider/lifecycle/unknown";
import { dpuHost } from "../../provider/resources/dpu-host";
import { createDpuUnderlayProvider } from "../../provider/resources/dpu-underlay";
import { createDpuWorkloadProvider } from "../../provider/resources/dpu-workload";

// ≥ 10,000 generated inputs per resource through check(): it never throws, and whatever it rejects comes back
// as check failures naming a property path and a reason. Inputs are garbage of every JSON/JS shape, and valid
// declarations with random subtrees replaced, removed, added or set to the preview's unknown value.

const RUNS = 10_000;
const KEY =
  "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n-----END OPENSSH PRIVATE KEY-----";
const connection = { host: "198.18.0.10", privateKey: KEY, hostKey: `SHA256:${"A".repeat(43)}` };

const VALID: Record<string, Record<string, unknown>> = {
  DpuHost: {
    bmc: { endpoint: "https://127.0.0.1:8443", username: "admin", password: "pw-123456", systemId: "1" },
    image: {
      url: "http://127.0.0.1/a.iso",
      sha256: "a".repeat(64),
      method: "virtualMedia",
      timeoutMs: 60_000,
    },
    ready: { bootProgress: true, timeoutMs: 60_000, ssh: { host: "198.18.0.10", port: 22, privateKey: KEY } },
    power: "On",
    ejectAfterInstall: true,
  },
  DpuUnderlay: {
    connection,
    hostname: "dpu-0",
    dns: { servers: ["198.18.0.1"], search: ["lab.example"] },
    interfaces: [
      {
        name: "p0",
        mtu: 9000,
        addresses: ["198.19.0.1/24", "2001:db8::1/64"],
        vlans: [{ id: 100, addresses: ["198.19.100.1/24"] }],
      },
      { mac: "02:00:00:00:00:01", state: "down" },
    ],
    routes: [{ destination: "198.19.200.0/24", via: "198.19.0.2" }],
    persist: "auto",
    safety: { rollbackAfterSeconds: 30, probes: [{ ping: "198.19.0.2" }, { tcp: "198.19.0.2:22" }] },
  },
  DpuWorkload: {
    connection,
    name: "telemetry",
    runtime: "process",
    command: ["/opt/agent/run", "--port", "9100"],
    artifacts: [{ source: { content: "x" }, destination: "/opt/agent/run", mode: "0755" }],
    env: { LEVEL: "info" },
    secretEnv: { TOKEN: "s3cret-token" },
    health: { tcpPort: 9100, intervalMs: 500 },
    restart: "always",
    state: "running",
  },
};

const providers: Record<string, pulumi.dynamic.ResourceProvider> = {
  DpuHost: dpuHost,
  DpuUnderlay: createDpuUnderlayProvider(),
  DpuWorkload: createDpuWorkloadProvider(),
};

const garbage = fc.anything({
  maxDepth: 4,
  withBigInt: true,
  withBoxedValues: true,
  withDate: true,
  withMap: true,
  withSet: true,
  withNullPrototype: true,
  withTypedArray: true,
  withSparseArray: true,
});
const leaf = fc.oneof(
  garbage,
  fc.constant(UNKNOWN),
  fc.string(),
  fc.integer(),
  fc.double(),
  fc.constantFrom("", "$(reboot)", "a;rm -rf /", "\n", "p0\u0000", "-1", "1e309", "..", "/etc/passwd"),
);

type Json = Record<string, unknown> | unknown[];

/** Every path (array of keys) of a JSON tree. */
function paths(v: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (v === null || typeof v !== "object") return [];
  const out: (string | number)[][] = [];
  for (const [k, c] of Object.entries(v)) {
    const key = Array.isArray(v) ? Number(k) : k;
    out.push([...prefix, key], ...paths(c, [...prefix, key]));
  }
  return out;
}

function isPlain(v: unknown): v is Json {
  if (v === null || typeof v !== "object") return false;
  const proto = Object.getPrototypeOf(v);
  return Array.isArray(v) || proto === Object.prototype || proto === null;
}

type Mutation = { path: (string | number)[]; op: "set" | "delete" | "add"; value: unknown; key: string };

function mutate(base: Record<string, unknown>, muts: readonly Mutation[]): Record<string, unknown> {
  const doc = structuredClone(base);
  for (const m of muts) {
    let parent: Json = doc;
    let reachable = true;
    for (const k of m.path.slice(0, -1)) {
      const next = (parent as Record<string | number, unknown>)[k];
      if (!isPlain(next)) {
        reachable = false;
        break;
      }
      parent = next as Json;
    }
    if (!reachable) continue;
    const last = m.path[m.path.length - 1]!;
    const p = parent as Record<string | number, unknown>;
    // Own data properties, as JSON.parse would create them (even for keys such as __proto__).
    const put = (k: string | number, v: unknown) =>
      Object.defineProperty(p, k, { value: v, enumerable: true, writable: true, configurable: true });
    if (m.op === "set") put(last, m.value);
    else if (m.op === "delete") delete p[last];
    else put(m.key, m.value);
  }
  return doc;
}

function mutated(name: string): fc.Arbitrary<Record<string, unknown>> {
  const base = VALID[name]!;
  const all = paths(base);
  const mutation: fc.Arbitrary<Mutation> = fc.record({
    path: fc.constantFrom(...all),
    op: fc.constantFrom("set", "delete", "add"),
    value: leaf,
    key: fc.oneof(fc.string(), fc.constantFrom("__proto__", "constructor", "extra", "toString")),
  });
  return fc.array(mutation, { minLength: 1, maxLength: 4 }).map((ms) => mutate(base, ms));
}

/** True when `v` holds the preview's unknown value anywhere (a check that passes unknowns through). */
function containsUnknown(v: unknown, seen = new Set<unknown>()): boolean {
  if (v === UNKNOWN) return true;
  if (v === null || typeof v !== "object" || seen.has(v)) return false;
  seen.add(v);
  return Object.values(v).some((c) => containsUnknown(c, seen));
}

async function checkOnce(p: pulumi.dynamic.ResourceProvider, news: unknown): Promise<void> {
  const r = await p.check!({}, news as never);
  expect(r).toBeTypeOf("object");
  const failures = r.failures ?? [];
  expect(Array.isArray(failures)).toBe(true);
  for (const f of failures) {
    expect(typeof f.property).toBe("string");
    expect(typeof f.reason).toBe("string");
    expect(f.reason.length).toBeGreaterThan(0);
  }
  if (failures.length === 0 && !containsUnknown(r.inputs)) {
    // Accepted inputs are a fixed point: checking them again accepts them unchanged.
    const again = await p.check!({}, r.inputs as never);
    expect(again.failures ?? []).toEqual([]);
    expect(again.inputs).toEqual(r.inputs);
  }
}

function describe_(v: unknown): string {
  try {
    return JSON.stringify(v, (_k, x) =>
      typeof x === "bigint" ? `${x}n` : x instanceof Set || x instanceof Map ? [...x] : x,
    ).slice(0, 600);
  } catch {
    return String(v);
  }
}

describe("check() under fuzzing: no crash, only check failures", () => {
  for (const name of Object.keys(VALID)) {
    it(`${name}: ${RUNS} generated inputs`, async () => {
      const p = providers[name]!;
      // The base declaration is valid.
      expect((await p.check!({}, VALID[name] as never)).failures ?? []).toEqual([]);
      let runs = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.oneof({ arbitrary: garbage, weight: 1 }, { arbitrary: mutated(name), weight: 4 }),
          async (news) => {
            runs++;
            try {
              await checkOnce(p, news);
            } catch (e) {
              // Report plainly (the generated value may not survive fast-check's own printer).
              throw new Error(
                `check() of ${describe_(news)} threw: ${e instanceof Error ? e.stack : String(e)}`,
              );
            }
          },
        ),
        { numRuns: RUNS, seed: 424242 + name.length },
      );
      expect(runs).toBeGreaterThanOrEqual(RUNS);
    }, 120_000);
  }
});
