import { spawnSync } from "node:child_process";
import { hostname } from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createDpuUnderlayProvider,
  type DpuUnderlayOutputs,
  underlayId,
} from "../../provider/resources/dpu-underlay";
import { createSshConnector } from "../../provider/ssh";
import { APPLY_SCRIPT, FRAME_MARKER } from "../../provider/underlay/scripts";
import { checked, SKIP_UNDERLAY_LAB, snapshot, strayProcesses, underlayLab } from "./underlay-helpers";

// Issue 12 item 2 (underlay part): nothing serialized writers on the DPU. Two stacks, two resources with the
// same interfaces, or a retried `pulumi up` could apply the same underlay at once. Required: one lock on the
// DPU per underlay, held for the whole apply, a clear error naming the holder when busy, and a stale lock from a
// killed provider recoverable.

const DIR = "/var/lib/pulumi-dpu/underlay";

describe.skipIf(SKIP_UNDERLAY_LAB)("DpuUnderlay writers under adversity", () => {
  let L: Awaited<ReturnType<typeof underlayLab>>;
  let before: Awaited<ReturnType<typeof snapshot>>;
  beforeAll(async () => {
    L = await underlayLab();
    before = await snapshot(L.session);
  });
  afterAll(async () => {
    await L?.stop();
  });

  const decl = (address: string) =>
    checked({
      connection: L.connection,
      interfaces: [{ name: "p1", addresses: [address] }],
      safety: { rollbackAfterSeconds: 5 },
    });
  const lockOf = (id: string) => `${DIR}/${id}.lock`;
  // The shared DPU lock's layout (provider/ssh/assets/remote-lock.sh): the underlay's holder line is its token and who.
  const plantLock = async (id: string, holder: object, expiresIn: number) => {
    await L.session.run([
      "sh",
      "-c",
      'mkdir -p "$1" && printf "token=%s\\nexpires=%s\\nsince=1\\nwho=%s\\n" "$2" $(($(date +%s) + $3)) "$2" > "$1/holder"',
      "plant",
      lockOf(id),
      JSON.stringify(holder),
      String(expiresIn),
    ]);
  };

  it("two providers applying the same underlay at once: one applies, the other is refused naming the holder", async () => {
    // Two provider processes (each with its own SSH pool), as two stacks or a retried `pulumi up` would be.
    const a = createDpuUnderlayProvider({ connector: createSshConnector() });
    const b = createDpuUnderlayProvider({ connector: createSshConnector() });
    const results = await Promise.allSettled([
      a.create!(decl("198.19.70.1/24")),
      b.create!(decl("198.19.70.2/24")),
    ]);
    const ok = results.filter((r) => r.status === "fulfilled");
    const refused = results.flatMap((r) => (r.status === "rejected" ? [r.reason as Error] : []));
    expect(ok).toHaveLength(1);
    expect(refused).toHaveLength(1);
    expect(refused[0]?.message).toMatch(
      new RegExp(
        `^create DpuUnderlay underlay-[0-9a-f]{16} \\(root@.*\\): another apply of this underlay is running and holds the lock ${DIR}/underlay-[0-9a-f]{16}\\.lock: create by pulumi-dpu pid ${process.pid} on ${hostname()}, since \\d{4}-.*; its lease ends in \\d+ s`,
      ),
    );
    // The winner applied alone; its lock is gone once it finished, and no process is left.
    const outs = (ok[0] as PromiseFulfilledResult<{ id: string; outs: DpuUnderlayOutputs }>).value;
    expect(outs.outs.observedInterfaces[0]?.addresses).toHaveLength(1);
    expect((await L.session.run(["ls", DIR])).stdout.trim()).toBe(`${outs.id}.json`);
    expect(await strayProcesses(L.session)).toEqual([]);
    await L.provider.delete!(outs.id, outs.outs);
    expect(await snapshot(L.session)).toEqual(before);
  });

  it("a lock and an unconfirmed change left by a killed provider: the lock is taken over, the change restored first", async () => {
    const inputs = decl("198.19.71.1/24");
    const id = underlayId(inputs);
    // A provider of this machine, killed in the middle of an apply: its lock, and its change staged and applied
    // but never confirmed (its timer armed for 5 minutes).
    const dead = spawnSync("true").pid;
    await plantLock(
      id,
      { token: "t", action: "update", host: hostname(), pid: dead, since: "2026-01-01T00:00:00Z" },
      600,
    );
    const staged = `${FRAME_MARKER}apply.batch\naddress add 198.19.71.99/24 dev p1\n${FRAME_MARKER}restore.batch\n0 address del 198.19.71.99/24 dev p1\n`;
    const left = await L.session.exec(
      ["sh", "-c", APPLY_SCRIPT, "pulumi-dpu-apply", `${DIR}/${id}.staging.killed`, "300"],
      {
        stdin: staged,
      },
    );
    expect(left.stdout.trim()).toBe("applied");
    expect(await strayProcesses(L.session)).not.toEqual([]); // its timer

    const created = await L.provider.create!(inputs);
    const addrs = (created.outs as DpuUnderlayOutputs).observedInterfaces[0]?.addresses;
    expect(addrs).toContain("198.19.71.1/24");
    expect(addrs).not.toContain("198.19.71.99/24");
    expect(await strayProcesses(L.session)).toEqual([]);
    expect((await L.session.run(["ls", DIR])).stdout.trim()).toBe(`${id}.json`);
    await L.provider.delete!(created.id, created.outs as DpuUnderlayOutputs);
    expect(await snapshot(L.session)).toEqual(before);
  });

  it("a lock this very process left behind (its release was lost with the connection) does not block its next apply", async () => {
    const inputs = decl("198.19.73.1/24");
    const id = underlayId(inputs);
    await plantLock(
      id,
      { token: "lost", action: "update", host: hostname(), pid: process.pid, since: "2026-12-03T09:00:00Z" },
      600,
    );
    const created = await L.provider.create!(inputs);
    await L.provider.delete!(created.id, created.outs as DpuUnderlayOutputs);
    expect(await snapshot(L.session)).toEqual(before);
    expect((await L.session.run(["ls", DIR])).stdout.trim()).toBe("");
  });

  it("a lock held by a live provider elsewhere is refused until its lease ends", async () => {
    const inputs = decl("198.19.72.1/24");
    const id = underlayId(inputs);
    const holder = {
      token: "x",
      action: "delete",
      host: "ci-runner-7",
      pid: 4242,
      since: "2026-12-03T09:00:00Z",
    };
    await plantLock(id, holder, 600);
    await expect(L.provider.create!(inputs)).rejects.toThrow(
      /holds the lock .*: delete by pulumi-dpu pid 4242 on ci-runner-7, since 2026-12-03T09:00:00Z; its lease ends in (599|600) s/,
    );
    await plantLock(id, holder, -1);
    const created = await L.provider.create!(inputs);
    expect((created.outs as DpuUnderlayOutputs).observedInterfaces[0]?.addresses).toContain("198.19.72.1/24");
    await L.provider.delete!(created.id, created.outs as DpuUnderlayOutputs);
    expect(await snapshot(L.session)).toEqual(before);
    expect((await L.session.run(["ls", DIR])).stdout.trim()).toBe("");
  });
});
