import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { setLogSink } from "../../provider/log";
import { createDpuUnderlayProvider, type DpuUnderlayOutputs } from "../../provider/resources/dpu-underlay";
import { createDpuWorkloadProvider, type DpuWorkloadOutputs } from "../../provider/resources/dpu-workload";
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

  test("three DPUs running the same workload print lines that name each resource and its DPU", async () => {
    const scopes = new Set<string>();
    for (let i = 0; i < COUNT; i++) {
      const host = lab.endpoints.dpus[i]!.ssh.host;
      const news = {
        connection: connectionFor(lab.endpoints, i),
        name: "agent",
        runtime: "process",
        command: ["sleep", "600"],
        owner: `demo/dev/dpu-${i}-agent`,
      };
      const { inputs, failures } = await workloads.check!({}, news);
      expect(failures).toEqual([]);
      let created: { id: string; outs: DpuWorkloadOutputs } | undefined;
      const mine = await linesOf("DpuWorkload", async () => {
        created = (await workloads.create!(inputs)) as typeof created;
      });
      expect(mine.length, `progress lines of dpu-${i}-agent`).toBeGreaterThan(0);
      for (const l of mine) {
        expect(scopeOf(l)).toContain(`dpu-${i}-agent`);
        expect(scopeOf(l)).toContain(host);
        scopes.add(scopeOf(l));
      }
      const removed = await linesOf("DpuWorkload", () => workloads.delete!(created!.id, created!.outs));
      expect(removed.length).toBeGreaterThan(0);
      for (const l of removed) expect(scopeOf(l)).toContain(`dpu-${i}-agent`);
    }
    expect(scopes.size).toBe(COUNT);
  });

  test("three DPUs given the same underlay print lines that name each resource and its DPU", async () => {
    const scopes = new Set<string>();
    for (let i = 0; i < COUNT; i++) {
      const host = lab.endpoints.dpus[i]!.ssh.host;
      const news = {
        connection: connectionFor(lab.endpoints, i),
        interfaces: [{ name: "p1", addresses: ["198.19.90.1/24"] }],
        persist: "none",
        safety: { rollbackAfterSeconds: 5 },
        owner: `demo/dev/dpu-${i}-underlay`,
      };
      const { inputs, failures } = await underlays.check!({}, news);
      expect(failures).toEqual([]);
      let created: { id: string; outs: DpuUnderlayOutputs } | undefined;
      const mine = await linesOf("DpuUnderlay", async () => {
        created = (await underlays.create!(inputs)) as typeof created;
      });
      expect(mine.length, `progress lines of dpu-${i}-underlay`).toBeGreaterThan(0);
      for (const l of mine) {
        expect(scopeOf(l)).toContain(`dpu-${i}-underlay`);
        expect(scopeOf(l)).toContain(host);
        scopes.add(scopeOf(l));
      }
      await underlays.delete!(created!.id, created!.outs);
    }
    expect(scopes.size).toBe(COUNT);
  });
});
