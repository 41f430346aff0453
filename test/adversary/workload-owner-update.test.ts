import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createDpuWorkloadProvider, type DpuWorkloadOutputs } from "../../provider/resources/dpu-workload";
import { createSshConnector } from "../../provider/ssh";
import type { SshSession } from "../../provider/ssh/types";
import { type Lab, startLab } from "../../simulator";
import { checkedBy, connectionFor, labUnavailable, rootSession, settle, shOn } from "../workload/helpers";

// Issue 12, second review of DpuWorkload: an update did not check the owner recorded on the DPU, so after an
// import (the state names one owner, the DPU another) two stacks both rewrote the same workload. DpuUnderlay
// already refused that; DpuWorkload now refuses it the same way, under the workload's lock on the DPU.

const skip = labUnavailable() !== undefined;
const ROOT = "/var/lib/pulumi-dpu/workloads";
const pool = createSshConnector();
let lab: Lab;
const dpus: SshSession[] = [];
const provider = createDpuWorkloadProvider({ connector: pool });

type Created = { id: string; outs: DpuWorkloadOutputs };

function checked(news: Record<string, unknown>): Promise<Record<string, unknown>> {
  return checkedBy(provider, news);
}

function sh(cmd: string, i = 0): Promise<string> {
  return shOn(dpus[i] as SshSession, cmd);
}

describe.skipIf(skip)("DpuWorkload update and the owner recorded on the DPU", () => {
  beforeAll(async () => {
    lab = await startLab({ count: 2, bootTimeMs: 0, shell: ["dash", "busybox"] });
    for (const i of [0, 1]) dpus.push(await rootSession(pool, lab.endpoints, i));
  });
  afterAll(async () => {
    await pool.closeAll();
    await lab?.stop();
  });

  function spec(name: string, owner: string, seconds: string, i = 0): Record<string, unknown> {
    return {
      connection: connectionFor(lab.endpoints, i),
      name,
      runtime: "process",
      owner,
      command: ["sleep", seconds],
      artifacts: [{ source: { content: `v${seconds}\n` }, destination: `/opt/${name}/f` }],
    };
  }

  test("after an import (state owner differs from the DPU's) an update is refused naming the recorded owner, and nothing changes", async () => {
    const a = (await provider.create!(await checked(spec("imp", "p/a/imp", "2401")))) as Created;
    const pid = await sh(`cat ${ROOT}/imp/run/child.pid`);
    // Stack B imported the workload: its state names stack B, the DPU records stack A.
    const bState = { ...a.outs, owner: "p/b/imp" } as DpuWorkloadOutputs;
    const refused =
      /^update DpuWorkload imp \(.*\/imp\): the DPU .* already holds this workload \(.*\/imp\) for owner `p\/a\/imp`, and this resource is owner `p\/b\/imp`; nothing was changed/;
    // A change that redeploys.
    const redeploy = await settle(
      provider.update!(a.id, bState, await checked(spec("imp", "p/b/imp", "2402"))),
    );
    expect(redeploy).toBeInstanceOf(Error);
    expect((redeploy as Error).message).toMatch(refused);
    // A change of nothing that needs the DPU (same definition, another owner).
    const same = await settle(provider.update!(a.id, bState, await checked(spec("imp", "p/b/imp", "2401"))));
    expect(same).toBeInstanceOf(Error);
    expect((same as Error).message).toMatch(refused);
    expect(await sh(`grep '^owner=' ${ROOT}/imp/spec/meta`)).toBe("owner=p/a/imp");
    expect(await sh(`cat ${ROOT}/imp/run/child.pid`)).toBe(pid);
    expect(await sh("pgrep -f '[s]leep 2402' | wc -l")).toBe("0");
    expect(await sh("cat /opt/imp/f")).toBe("v2401");
    // The lock was released: stack A, whose state matches the DPU, still updates it.
    const u = await provider.update!(a.id, a.outs, await checked(spec("imp", "p/a/imp", "2403")));
    expect(u.outs?.status).toBe("running");
    expect(await sh("cat /opt/imp/f")).toBe("v2403");
    // A hand-over (state and DPU agree, a new owner is declared) is allowed and recorded.
    const h = await provider.update!(
      a.id,
      u.outs as DpuWorkloadOutputs,
      await checked(spec("imp", "p/a2/imp", "2403")),
    );
    expect(await sh(`grep '^owner=' ${ROOT}/imp/spec/meta`)).toBe("owner=p/a2/imp");
    // Now stack A's old state is the foreign one.
    const stale = await settle(
      provider.update!(a.id, u.outs as DpuWorkloadOutputs, await checked(spec("imp", "p/a/imp", "2404"))),
    );
    expect((stale as Error).message).toContain("for owner `p/a2/imp`");
    await provider.delete!(a.id, h.outs as DpuWorkloadOutputs);
    expect(await sh(`test -e ${ROOT}/imp && echo left || echo gone`)).toBe("gone");
  });

  // Issue 12 review: a workload whose directory was removed by hand kept its supervisor (and child) running,
  // orphaned: read() said it was gone. delete() and a new create() must stop it (found by its command line: the
  // pid files went with the directory). On dash and busybox ash DPUs.
  const ours = (name: string, seconds: string, i: number) =>
    sh(
      `pgrep -f '[s]upervisor[.]sh ${ROOT}/${name}$' >/dev/null && echo supervised || echo none; pgrep -f '^(/usr/bin/|/bin/)?sleep ${seconds}$' >/dev/null && echo running || echo none`,
      i,
    );

  for (const [i, shell] of [
    [0, "dash"],
    [1, "busybox"],
  ] as const) {
    test(`${shell}: a workload whose directory was removed by hand: read() reports it gone, delete() stops the orphan`, async () => {
      const c = (await provider.create!(await checked(spec("orph", "p/a/orph", `25${i}1`, i)))) as Created;
      expect(await ours("orph", `25${i}1`, i)).toBe("supervised\nrunning");
      await sh(`rm -rf ${ROOT}/orph`, i);
      expect(await provider.read!(c.id, c.outs)).toEqual({});
      await provider.delete!(c.id, c.outs);
      expect(await ours("orph", `25${i}1`, i)).toBe("none\nnone");
      expect(await sh(`test -e ${ROOT}/orph && echo left || echo gone`, i)).toBe("gone");
    });

    test(`${shell}: a workload whose directory was removed by hand: a new create() (after refresh dropped it) stops the orphan`, async () => {
      const c = (await provider.create!(await checked(spec("orph2", "p/a/orph2", `26${i}1`, i)))) as Created;
      await sh(`rm -rf ${ROOT}/orph2`, i);
      const again = (await provider.create!(
        await checked(spec("orph2", "p/a/orph2", `26${i}2`, i)),
      )) as Created;
      expect(again.id).toBe(c.id);
      expect(await ours("orph2", `26${i}1`, i)).toBe("supervised\nnone");
      expect(await ours("orph2", `26${i}2`, i)).toBe("supervised\nrunning");
      await provider.delete!(again.id, again.outs);
      expect(await ours("orph2", `26${i}2`, i)).toBe("none\nnone");
    });
  }
});
