import type * as pulumi from "@pulumi/pulumi";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { setLogSink } from "../../provider/log";
import { createDpuUnderlayProvider } from "../../provider/resources/dpu-underlay";
import { createDpuWorkloadProvider } from "../../provider/resources/dpu-workload";
import { createSshConnector } from "../../provider/ssh";
import { type Lab, startLab } from "../../simulator";
import { connectionFor, labUnavailable } from "../workload/helpers";

// Issue 14 (the demo): progress lines were keyed by what the resource acts on (`DpuWorkload agent`,
// `DpuUnderlay underlay-<hex>`), so three DPUs running the same declaration printed lines that looked alike.
// Every progress line of a DpuWorkload or DpuUnderlay must name the resource (the name at the end of the owner
// `<project>/<stack>/<name>` the SDK passes) and the DPU it acts on.

const skip = labUnavailable() !== undefined;
const COUNT = 3;
const pool = createSshConnector();
const workloads = createDpuWorkloadProvider({ connector: pool });
const underlays = createDpuUnderlayProvider({ connector: pool });
let lab: Lab;
let lines: string[] = [];
let restoreSink: (() => void) | undefined;

/** The progress lines of resources of `type` logged while `fn` runs. */
async function linesOf(type: string, fn: () => Promise<unknown>): Promise<string[]> {
  lines = [];
  await fn();
  return lines.filter((l) => l.startsWith(`[dpu] ${type} `));
}

/** The scope of a line: what stands between `[dpu] ` and the first `: `. */
function scopeOf(line: string): string {
  return line.slice("[dpu] ".length, line.indexOf(": "));
}

describe.skipIf(skip)("DpuWorkload and DpuUnderlay progress lines name the resource", () => {
  beforeAll(async () => {
    restoreSink = setLogSink((_level, line) => lines.push(line));
    lab = await startLab({ count: COUNT, bootTimeMs: 0 });
  });
  afterAll(async () => {
    restoreSink?.();
    await pool.closeAll();
    await lab?.stop();
  });

  /**
   * Creates (and deletes) one resource of `type` per DPU, each named `dpu-<i>-<suffix>` by its owner, and checks
   * that every progress line names its resource and its DPU, and that no two DPUs share a scope.
   */
  async function eachDpuNamesItsLines(
    type: string,
    provider: pulumi.dynamic.ResourceProvider,
    suffix: string,
    news: (i: number) => Record<string, unknown>,
  ): Promise<void> {
    const scopes = new Set<string>();
    for (let i = 0; i < COUNT; i++) {
      const name = `dpu-${i}-${suffix}`;
      const host = lab.endpoints.dpus[i]!.ssh.host;
      const { inputs, failures } = await provider.check!({}, { ...news(i), owner: `demo/dev/${name}` });
      expect(failures).toEqual([]);
      let created: pulumi.dynamic.CreateResult | undefined;
      const mine = await linesOf(type, async () => {
        created = await provider.create!(inputs);
      });
      const removed = await linesOf(type, () => provider.delete!(created!.id, created!.outs));
      expect(mine.length, `progress lines of ${name}`).toBeGreaterThan(0);
      for (const l of [...mine, ...removed]) {
        expect(scopeOf(l)).toContain(name);
        expect(scopeOf(l)).toContain(host);
        scopes.add(scopeOf(l));
      }
    }
    expect(scopes.size).toBe(COUNT);
  }

  test("three DPUs running the same workload print lines that name each resource and its DPU", async () => {
    await eachDpuNamesItsLines("DpuWorkload", workloads, "agent", (i) => ({
      connection: connectionFor(lab.endpoints, i),
      name: "agent",
      runtime: "process",
      command: ["sleep", "600"],
    }));
  });

  test("three DPUs given the same underlay print lines that name each resource and its DPU", async () => {
    await eachDpuNamesItsLines("DpuUnderlay", underlays, "underlay", (i) => ({
      connection: connectionFor(lab.endpoints, i),
      interfaces: [{ name: "p1", addresses: ["198.19.90.1/24"] }],
      persist: "none",
      safety: { rollbackAfterSeconds: 5 },
    }));
  });
});
