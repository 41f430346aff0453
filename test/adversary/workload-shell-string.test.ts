import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeAllPools } from "../../provider/redfish";
import { createDpuWorkloadProvider, type DpuWorkloadOutputs } from "../../provider/resources/dpu-workload";
import { createSshConnector } from "../../provider/ssh";
import type { SshSession } from "../../provider/ssh/types";
import { type Lab, startLab } from "../../simulator";
import { connectionFor, labUnavailable, rootSession, shOn } from "../workload/helpers";

// Issue 14 item 2: the README and the `command` TSDoc promise `command: "…", shell: true`, but the schema took
// only an argv array ("command: Invalid input: expected array, received string"). Now a string runs through
// the DPU's own /bin/sh -c (dash on the default image) with its quoting intact; a string without shell is refused.

const skip = labUnavailable() !== undefined;
const pool = createSshConnector();
const provider = createDpuWorkloadProvider({ connector: pool });

/** Writes the running shell's binary and what its quoting produced, then stays up. */
const SCRIPT =
  'readlink /proc/$$/exe > "/tmp/shell string.out"; ' +
  'printf \'[%s]\\n\' "two  spaces" \'no $HOME here\' "semi;colon" >> "/tmp/shell string.out"; ' +
  "exec sleep 1000";

describe.skipIf(skip)("DpuWorkload: a string command with shell: true", () => {
  let lab: Lab;
  let dpu: SshSession;

  beforeAll(async () => {
    lab = await startLab({ count: 1, bootTimeMs: 0 });
    dpu = await rootSession(pool, lab.endpoints);
  }, 60_000);
  afterAll(async () => {
    await pool.closeAll();
    await closeAllPools();
    await lab?.stop();
  });

  it("check() refuses a string without shell: true, naming the fix", async () => {
    const r = await provider.check!(
      {},
      { connection: connectionFor(lab.endpoints), name: "nosh", runtime: "process", command: "echo hi" },
    );
    const f = r.failures?.find((x) => x.property === "command");
    expect(f?.reason).toMatch(/string command needs `shell: true`/);
    expect(f?.reason).toMatch(/argv array/);
  });

  it("runs under the DPU's /bin/sh (dash) with its quoting intact; read() reports no drift", async () => {
    const news = {
      connection: connectionFor(lab.endpoints),
      name: "shellstr",
      runtime: "process",
      command: SCRIPT,
      shell: true,
      health: { command: ["test", "-s", "/tmp/shell string.out"], intervalMs: 200, retries: 25 },
    };
    const checked = await provider.check!({}, news);
    expect(checked.failures).toEqual([]);
    expect((checked.inputs as { command: unknown }).command).toBe(SCRIPT);
    const c = (await provider.create!(checked.inputs)) as { id: string; outs: DpuWorkloadOutputs };
    expect(c.outs.status).toBe("running");
    // The DPU's /bin/sh, read on the DPU itself (an oracle this project did not write).
    const sh = await shOn(dpu, "readlink -f /bin/sh");
    expect(sh).toMatch(/dash$/);
    const out = (await shOn(dpu, "cat '/tmp/shell string.out'")).split("\n");
    expect(out[0]).toMatch(/dash$/);
    expect(out.slice(1)).toEqual(["[two  spaces]", "[no $HOME here]", "[semi;colon]"]);
    const read = await provider.read!(c.id, c.outs);
    const d = await provider.diff!(c.id, read.props as DpuWorkloadOutputs, checked.inputs);
    expect(d.changes).toBe(false);
    await provider.delete!(c.id, c.outs);
  }, 60_000);
});
