import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, readdirSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dpuHost } from "../../provider";
import { closeAllPools } from "../../provider/redfish";
import type { DpuHostInputs, DpuHostOutputs } from "../../provider/resources/dpu-host";
import { type Lab, startLab } from "../../simulator";
import { control, inputsFor, labAvailable } from "../dpu-host/helpers";

// Issue 13 (hostile review, finding 1): two DpuHost resources naming one BMC system both succeeded and then
// undid each other on every `pulumi up`. One writer per DPU: the second is refused before anything is changed,
// naming the holder; the same owner re-running keeps working; delete releases the claim; the claim holds across
// processes of this machine, and a claim left by a process that is gone is taken over.

const stateDir = mkdtempSync(path.join(os.tmpdir(), "host-claims-"));
process.env.PULUMI_DPU_STATE_DIR = stateDir;
const run = promisify(execFile);

async function errOf(p: Promise<unknown> | undefined): Promise<string> {
  try {
    await p;
    return "NO ERROR";
  } catch (e) {
    return String((e as Error)?.message ?? e);
  }
}

describe.skipIf(!labAvailable())("DpuHost: one writer per DPU", () => {
  let lab: Lab;
  const snap = (i: number) => {
    const t = lab.dpus.get(lab.endpoints.dpus[i]?.name ?? "");
    if (!t) throw new Error(`no DPU ${i}`);
    return t.bmc.snapshot();
  };
  const host = (i: number, image: string, owner?: string): DpuHostInputs => ({
    ...inputsFor(lab.endpoints, i, image),
    ...(owner ? { owner } : {}),
  });

  beforeAll(async () => {
    lab = await startLab({ count: 3, profile: "generic", bootTimeMs: 300 });
  }, 180_000);
  afterAll(async () => {
    await closeAllPools?.();
    await lab?.stop();
  });

  it("two creates at once on one system: one wins, the other is refused at once naming the holder", async () => {
    for (const [a, b] of [
      ["proj/dev/dpu-a", "proj/prod/dpu-b"],
      [undefined, undefined], // the provider used without the SDK: no owners to compare
    ] as const) {
      const res = await Promise.allSettled([
        dpuHost.create?.(host(0, "dpu-os-1.1.iso", a)),
        dpuHost.create?.(host(0, "dpu-os-2.0.iso", b)),
      ]);
      const ok = res.filter((r) => r.status === "fulfilled");
      const refused = res.filter((r): r is PromiseRejectedResult => r.status === "rejected");
      expect(ok.length).toBe(1);
      expect(refused.length).toBe(1);
      const msg = String((refused[0]?.reason as Error | undefined)?.message);
      expect(msg).toMatch(/^create DpuHost /);
      expect(msg).toContain("nothing was changed");
      expect(msg).toContain(a ? `held by DpuHost ${a}` : "held by another DpuHost (no owner)");
      // The DPU runs the winner's image, the one its state records.
      expect(snap(0).installedImage?.label).toBe("DPUOS_1_1");
      const outs = (ok[0] as PromiseFulfilledResult<{ outs: DpuHostOutputs; id: string }>).value;
      await dpuHost.delete?.(outs.id, outs.outs);
    }
  });

  it("another owner's create is refused while the first holds the DPU; the same owner re-runs; delete releases", async () => {
    const a = await dpuHost.create?.(host(1, "dpu-os-1.1.iso", "proj/dev/dpu-a"));
    if (!a) throw new Error("no create");
    const requests = JSON.stringify(snap(1).requests);
    const msg = await errOf(dpuHost.create?.(host(1, "dpu-os-2.0.iso", "proj/prod/dpu-b")));
    expect(msg).toMatch(/^create DpuHost /);
    expect(msg).toContain("is claimed by DpuHost proj/dev/dpu-a");
    expect(msg).toContain("nothing was changed");
    expect(msg).toContain("delete that resource");
    expect(snap(1).installedImage?.label).toBe("DPUOS_1_1");
    // Refused before the BMC changed (discovery reads only: no POST or PATCH).
    const after = snap(1).requests;
    const writes = (r: Record<string, number>) => (r.POST ?? 0) + (r.PATCH ?? 0) + (r.DELETE ?? 0);
    expect(writes(after)).toBe(writes(JSON.parse(requests)));
    // An update of the other owner's resource pointing at the same system is refused the same way.
    const stolen = { ...a.outs, owner: "proj/prod/dpu-b" } as DpuHostOutputs;
    const u = await errOf(
      dpuHost.update?.(a.id, stolen, { ...host(1, "dpu-os-2.0.iso", "proj/prod/dpu-b") }),
    );
    expect(u).toMatch(/^update DpuHost .*is claimed by DpuHost proj\/dev\/dpu-a/);
    expect(snap(1).installedImage?.label).toBe("DPUOS_1_1");
    // The same owner re-running (a retried create, an update) works; an owner change in state is a hand-over.
    const again = await dpuHost.create?.(host(1, "dpu-os-1.1.iso", "proj/dev/dpu-a"));
    expect(again?.outs.installedImage?.url).toContain("1.1");
    const moved = await dpuHost.update?.(a.id, a.outs, host(1, "dpu-os-1.1.iso", "proj/dev/dpu-a2"));
    expect(moved?.outs.owner).toBe("proj/dev/dpu-a2");
    expect(await errOf(dpuHost.create?.(host(1, "dpu-os-2.0.iso", "proj/dev/dpu-a")))).toContain(
      "is claimed by DpuHost proj/dev/dpu-a2",
    );
    // A delete by another owner leaves the DPU and the claim alone; the holder's delete releases it.
    await dpuHost.delete?.(a.id, stolen);
    expect(await errOf(dpuHost.create?.(host(1, "dpu-os-2.0.iso", "proj/prod/dpu-b")))).toContain(
      "is claimed by DpuHost proj/dev/dpu-a2",
    );
    await dpuHost.delete?.(a.id, moved?.outs as DpuHostOutputs);
    const b = await dpuHost.create?.(host(1, "dpu-os-2.0.iso", "proj/prod/dpu-b"));
    expect(b?.outs.installedImage?.url).toContain("2.0");
    expect(snap(1).installedImage?.label).toBe("DPUOS_2_0");
  });

  it("a failed create keeps its claim only when it left a partial resource, which its owner resumes", async () => {
    // Refused after discovery, before any change (nothing could observe the boot): no resource, so no claim.
    const blind = {
      ...inputsFor(lab.endpoints, 0, "dpu-os-1.1.iso", { ssh: false }),
      owner: "proj/dev/dpu-p",
      ready: { bootProgress: false, timeoutMs: 5_000 },
    };
    expect(await errOf(dpuHost.create?.(blind))).toContain("ready.ssh");
    // So another owner may create; its boot fails: a partial resource (id and properties) that holds the DPU.
    await control(lab.endpoints, `/bmc/${lab.endpoints.dpus[0]?.name}/faults`, { bootFailCount: 1 });
    const q = {
      ...inputsFor(lab.endpoints, 0, "dpu-os-2.0.iso", { readyTimeoutMs: 5_000 }),
      owner: "proj/dev/dpu-q",
    };
    const partial = (await dpuHost.create?.(q).catch((e: unknown) => e)) as {
      id?: string;
      properties?: DpuHostOutputs;
    };
    await control(lab.endpoints, "/faults/clear");
    expect(partial.id).toBeTruthy();
    expect(partial.properties?.installPending).toBeDefined();
    expect(await errOf(dpuHost.create?.({ ...blind, ready: q.ready }))).toContain(
      "is claimed by DpuHost proj/dev/dpu-q",
    );
    // The engine's next up updates the partial resource: its owner resumes the install.
    const done = await dpuHost.update?.(partial.id ?? "", partial.properties as DpuHostOutputs, {
      ...q,
      ready: { ...q.ready, timeoutMs: 45_000 },
    });
    expect(done?.outs.installedImage?.url).toContain("2.0");
    expect(done?.outs.installPending).toBeUndefined();
    await dpuHost.delete?.(partial.id ?? "", done?.outs as DpuHostOutputs);
  });

  it("across processes: a live process's operation refuses; a killed one's is taken over", async () => {
    // A second provider process of this machine holding the system (the claims module, compiled as shipped).
    const out = mkdtempSync(path.join(os.tmpdir(), "host-claims-js-"));
    await run(
      "npx",
      [
        "tsc",
        "--outDir",
        out,
        "--module",
        "commonjs",
        "--target",
        "es2022",
        "--rootDir",
        path.resolve(__dirname, "../../provider"),
        "--skipLibCheck",
        path.resolve(__dirname, "../../provider/host/claims.ts"),
      ],
      { cwd: path.resolve(__dirname, "../..") },
    );
    const d = lab.endpoints.dpus[2];
    if (!d) throw new Error("no DPU 2");
    const script = `const c = require(${JSON.stringify(path.join(out, "host/claims.js"))});
c.beginClaim({ endpoint: ${JSON.stringify(d.bmc.url)}, system: "1", owner: "proj/other/dpu-x", action: "create" });
console.log("held"); setInterval(() => {}, 1e6);`;
    const child: ChildProcess = spawn(process.execPath, ["-e", script], {
      env: { ...process.env, PULUMI_DPU_STATE_DIR: stateDir },
      stdio: ["ignore", "pipe", "inherit"],
    });
    await new Promise<void>((resolve, reject) => {
      child.stdout?.on("data", (b: Buffer) => b.toString().includes("held") && resolve());
      child.once("exit", (c) => reject(new Error(`child exited ${c}`)));
    });
    const inputs = {
      ...host(2, "dpu-os-1.1.iso", "proj/dev/dpu-c"),
      bmc: { ...host(2, "dpu-os-1.1.iso").bmc, systemId: "1" },
    };
    const msg = await errOf(dpuHost.create?.(inputs));
    expect(msg).toContain(`held by DpuHost proj/other/dpu-x (create under way since`);
    expect(msg).toContain(`pid ${child.pid}`);
    expect(msg).toContain("nothing was changed");
    child.kill("SIGKILL");
    await new Promise((r) => child.once("exit", r));
    const r = await dpuHost.create?.(inputs);
    expect(r?.outs.installedImage?.url).toContain("1.1");
    // Operations leave no lock behind.
    expect(readdirSync(path.join(stateDir, "host-claims")).filter((n) => n.endsWith(".lock"))).toEqual([]);
  });
});
