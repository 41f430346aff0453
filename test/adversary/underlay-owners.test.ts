import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createDpuUnderlayProvider,
  type DpuUnderlayOutputs,
  underlayId,
} from "../../provider/resources/dpu-underlay";
import { createSshConnector } from "../../provider/ssh";
import { checked, SKIP_UNDERLAY_LAB, snapshot, underlayLab } from "./underlay-helpers";

// Issue 12 (underlay writers, review finding 1): two DpuUnderlay resources of two stacks that declare the same
// interface on one DPU got the same id, and the second create silently replaced the first one's routes. And two
// underlays with different ids but an overlapping interface ({p0} and {p0,p1}) both managed p0. Required: the
// owner (`<project>/<stack>/<name>`) is recorded on the DPU, a create of another owner's underlay or interface
// is refused naming that owner, a record of an older version (no owner) is adopted, and delete never removes what
// another owner's record holds.

const DIR = "/var/lib/pulumi-dpu/underlay";
const OWNER_A = "netproj/prod/underlay-a";
const OWNER_B = "otherproj/dev/underlay-b";

describe.skipIf(SKIP_UNDERLAY_LAB)("DpuUnderlay owners on one DPU", () => {
  let L: Awaited<ReturnType<typeof underlayLab>>;
  let before: Awaited<ReturnType<typeof snapshot>>;
  beforeAll(async () => {
    L = await underlayLab();
    before = await snapshot(L.session);
  });
  afterAll(async () => {
    await L?.stop();
  });

  const decl = (owner: string | undefined, itfs: Record<string, string>, route?: string) =>
    checked({
      connection: L.connection,
      interfaces: Object.entries(itfs).map(([name, address]) => ({ name, addresses: [address] })),
      routes: route ? [{ destination: route, via: "198.19.80.254" }] : [],
      persist: "none",
      safety: { rollbackAfterSeconds: 5 },
      ...(owner !== undefined ? { owner } : {}),
    });
  const recordOf = async (id: string) =>
    JSON.parse((await L.session.run(["cat", `${DIR}/${id}.json`])).stdout) as Record<string, unknown>;

  it("a second stack declaring the same interface is refused naming the owner, and cannot delete the first one's changes", async () => {
    // Two provider processes, as two stacks would run them.
    const a = createDpuUnderlayProvider({ connector: createSshConnector() });
    const b = createDpuUnderlayProvider({ connector: createSshConnector() });
    const created = await a.create!(decl(OWNER_A, { p1: "198.19.80.1/24" }, "198.51.100.0/24"));
    const mine = await snapshot(L.session);
    expect(await recordOf(created.id)).toMatchObject({ owner: OWNER_A, interfaces: ["p1"] });

    const theirs = decl(OWNER_B, { p1: "198.19.80.2/24" }, "203.0.113.0/24");
    expect(underlayId(theirs)).toBe(created.id);
    const err = await b.create!(theirs).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(
      new RegExp(
        `^create DpuUnderlay ${created.id} \\(root@.*\\): the DPU already holds this underlay \\(${DIR}/${created.id}\\.json\\) for owner \`${OWNER_A}\`, and this resource is owner \`${OWNER_B}\`; nothing was changed`,
      ),
    );
    // An incoming resource without owner (an older SDK) is refused the same way.
    await expect(b.create!(decl(undefined, { p1: "198.19.80.3/24" }))).rejects.toThrow(
      `for owner \`${OWNER_A}\`, and this resource is no recorded owner`,
    );
    expect(await snapshot(L.session)).toEqual(mine);

    // The other stack deleting "its" underlay (same id) leaves the first owner's changes and record alone.
    await b.delete!(created.id, { ...theirs, owner: OWNER_B } as unknown as DpuUnderlayOutputs);
    expect(await snapshot(L.session)).toEqual(mine);
    expect(await recordOf(created.id)).toMatchObject({ owner: OWNER_A });

    // The same owner resumes (a retried `pulumi up`), then deletes.
    const again = await a.create!(decl(OWNER_A, { p1: "198.19.80.1/24" }, "198.51.100.0/24"));
    expect(again.id).toBe(created.id);
    await a.delete!(again.id, again.outs as DpuUnderlayOutputs);
    expect(await snapshot(L.session)).toEqual(before);
  });

  it("two underlays with different ids and an overlapping interface: the second is refused naming the first and its owner", async () => {
    const first = await L.provider.create!(decl(OWNER_A, { p0: "198.19.81.1/24" }));
    const mine = await snapshot(L.session);
    const overlapping = decl(OWNER_B, { p0: "198.19.81.2/24", p1: "198.19.82.2/24" });
    expect(underlayId(overlapping)).not.toBe(first.id);
    const err = await L.provider.create!(overlapping).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain(
      `p0 is managed by DpuUnderlay ${first.id} (owner \`${OWNER_A}\`), recorded in ${DIR}/${first.id}.json; nothing was changed`,
    );
    expect(await snapshot(L.session)).toEqual(mine);
    // A disjoint underlay is fine.
    const disjoint = await L.provider.create!(decl(OWNER_B, { p1: "198.19.82.2/24" }));
    await L.provider.delete!(disjoint.id, disjoint.outs as DpuUnderlayOutputs);
    await L.provider.delete!(first.id, first.outs as DpuUnderlayOutputs);
    expect(await snapshot(L.session)).toEqual(before);
  });

  it("read() reports the owner the DPU records, so a take-over by another stack shows as drift in refresh", async () => {
    const made = await L.provider.create!(decl(OWNER_A, { p1: "198.19.84.1/24" }));
    const rec = await recordOf(made.id);
    await L.session.writeFileAtomic(
      `${DIR}/${made.id}.json`,
      JSON.stringify({ ...rec, owner: OWNER_B }),
      0o644,
    );
    const r = await L.provider.read!(made.id, made.outs as DpuUnderlayOutputs);
    expect(r.props?.owner).toBe(OWNER_B);
    expect((r.inputs as { owner?: string } | undefined)?.owner).toBe(OWNER_B);
    // A record of an older version (no owner): the declared owner stays (adopted at the next apply, not drift).
    const { owner: _gone, ...older } = rec;
    await L.session.writeFileAtomic(`${DIR}/${made.id}.json`, JSON.stringify(older), 0o644);
    const o = await L.provider.read!(made.id, made.outs as DpuUnderlayOutputs);
    expect(o.props?.owner).toBe(OWNER_A);
    await L.session.writeFileAtomic(`${DIR}/${made.id}.json`, JSON.stringify(rec), 0o644);
    await L.provider.delete!(made.id, made.outs as DpuUnderlayOutputs);
    expect(await snapshot(L.session)).toEqual(before);
  });

  it("a record of an older version (no owner) is adopted and its owner recorded", async () => {
    const inputs = decl(OWNER_A, { p1: "198.19.83.1/24" });
    const made = await L.provider.create!(inputs);
    // What an older version wrote: the same record without owner or interface claims.
    const old = await recordOf(made.id);
    delete old.owner;
    delete old.interfaces;
    await L.session.writeFileAtomic(`${DIR}/${made.id}.json`, JSON.stringify(old), 0o644);
    const adopted = await L.provider.create!(decl(OWNER_B, { p1: "198.19.83.1/24" }));
    expect(adopted.id).toBe(made.id);
    expect(await recordOf(made.id)).toMatchObject({ owner: OWNER_B, interfaces: ["p1"] });
    await L.provider.delete!(adopted.id, adopted.outs as DpuUnderlayOutputs);
    expect(await snapshot(L.session)).toEqual(before);
  });
});
