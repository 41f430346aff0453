import { readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { startLab } from "../../simulator";
import { skipLab } from "./helpers";

const SKIP = skipLab();
/** The 50-DPU run lives in bench/sim-scale.ts; this keeps a 10-DPU check in the test budget. */
const COUNT = 10;

describe.skipIf(SKIP)("lab scale", () => {
  it(`starts and stops ${COUNT} DPUs cleanly`, async () => {
    const t0 = Date.now();
    const lab = await startLab({ count: COUNT, bootTimeMs: 0, profile: "mixed" });
    const started = Date.now() - t0;
    try {
      expect(lab.endpoints.dpus).toHaveLength(COUNT);
      expect([...lab.dpus.values()].every((d) => d.backend.running())).toBe(true);
      expect(new Set(lab.endpoints.dpus.map((d) => d.ssh.host)).size).toBe(COUNT);
    } finally {
      const t1 = Date.now();
      await lab.stop();
      console.log(
        `lab of ${COUNT} DPUs: start ${(started / 1000).toFixed(2)} s, stop ${((Date.now() - t1) / 1000).toFixed(2)} s`,
      );
    }
    expect(readdirSync("/run/netns").filter((n) => n.startsWith(`pds${lab.slot}-`))).toEqual([]);
    expect(readdirSync("/sys/class/net").filter((n) => n.startsWith(`pds${lab.slot}`))).toEqual([]);
  });
});
