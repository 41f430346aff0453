import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DpuUnderlayOutputs } from "../../provider/resources/dpu-underlay";
import { checked, SKIP_UNDERLAY_LAB, snapshot, strayProcesses, underlayLab } from "./underlay-helpers";

// Issue 14: on a DPU without bash the underlay's tcp safety probe fell back to `nc -z`, which busybox nc does not
// have ("invalid option"), so every tcp probe failed and every change was rolled back. The probe now falls back
// to a plain connect with stdin at EOF (as the workload health check does). A busybox DPU: /bin/sh is busybox
// ash, no bash, nc is the busybox applet.

describe.skipIf(SKIP_UNDERLAY_LAB)("DpuUnderlay tcp probe on a busybox DPU (no bash)", () => {
  let L: Awaited<ReturnType<typeof underlayLab>>;
  let before: Awaited<ReturnType<typeof snapshot>>;
  /** The DPU's sshd, which listens on the DPU's own address only. */
  let sshd: string;
  beforeAll(async () => {
    L = await underlayLab(undefined, "busybox");
    before = await snapshot(L.session);
    sshd = `${(await L.session.run(["sh", "-c", "echo $SSH_CONNECTION"])).stdout.trim().split(" ")[2]}:22`;
  });
  afterAll(async () => {
    await L?.stop();
  });

  it("the DPU has busybox nc and no bash", async () => {
    const r = await L.session.run([
      "sh",
      "-c",
      'command -v bash || echo no-bash; readlink -f "$(command -v nc)"',
    ]);
    expect(r.stdout).toBe("no-bash\n/usr/bin/busybox\n");
  });

  it("a tcp probe of a listening port passes: the change is kept", async () => {
    const created = await L.provider.create!(
      checked({
        connection: L.connection,
        interfaces: [{ name: "p1", addresses: ["198.19.64.1/24"] }],
        safety: { rollbackAfterSeconds: 5, probes: [{ tcp: sshd }] },
      }),
    );
    const outs = created.outs as DpuUnderlayOutputs;
    expect(outs.observedInterfaces.find((i) => i.name === "p1")?.addresses).toContain("198.19.64.1/24");
    await L.provider.delete!(created.id, outs);
    expect(await snapshot(L.session)).toEqual(before);
  });

  it("a tcp probe of a closed port still fails: the change is restored", async () => {
    const err = (await L.provider.create!(
      checked({
        connection: L.connection,
        interfaces: [{ name: "p1", addresses: ["198.19.64.1/24"] }],
        safety: { rollbackAfterSeconds: 5, probes: [{ tcp: sshd.replace(/:22$/, ":1") }] },
      }),
    ).catch((e: unknown) => e)) as Error;
    expect(err.message).toContain(
      `probe tcp ${sshd.replace(/:22$/, ":1")} failed after the change; the DPU was restored`,
    );
    expect(await snapshot(L.session)).toEqual(before);
    expect(await strayProcesses(L.session)).toEqual([]);
  });
});
