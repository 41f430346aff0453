import { describe, expect, it } from "vitest";
import { benchUnderlayRoundTrips } from "../../bench/underlay-roundtrips";
import { labUnavailable } from "./lab-helpers";

const missing = labUnavailable("DpuUnderlay bench test");

describe.skipIf(missing !== undefined)("DpuUnderlay round-trip benchmark", () => {
  it("reads in one SSH round trip on a warm connection", async () => {
    const r = await benchUnderlayRoundTrips(5);
    process.stdout.write(`${JSON.stringify(r)}\n`);
    expect(r.roundTripsPerRead).toBe(1);
    expect(r.createLatencyMs).toBeGreaterThan(0);
  });
});
