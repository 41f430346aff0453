import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createDpuWorkloadProvider, type DpuWorkloadOutputs } from "../../provider/resources/dpu-workload";
import { createSshConnector } from "../../provider/ssh";
import type { SshSession } from "../../provider/ssh/types";
import { type Lab, startLab } from "../../simulator";
import { checkedBy, connectionFor, labUnavailable, rootSession, settle, shOn } from "../workload/helpers";

// Issue 12 items 2 (artifact ownership), 9 (artifact memory) and 11 (a directory as destination): a workload
// must not replace or delete files it did not create, two workloads cannot claim one path, and a large artifact
// is streamed instead of being held (twice) in memory.

const skip = labUnavailable() !== undefined;
const pool = createSshConnector();
const provider = createDpuWorkloadProvider({ connector: pool });
let lab: Lab;
let dpu: SshSession;
let tmp: string;

function workload(name: string, artifacts: Record<string, unknown>[]): Record<string, unknown> {
  return {
    connection: connectionFor(lab.endpoints),
    name,
    runtime: "process",
    command: ["sleep", "600"],
    artifacts,
  };
}

function checked(news: Record<string, unknown>): Promise<Record<string, unknown>> {
  return checkedBy(provider, news);
}

function sh(cmd: string): Promise<string> {
  return shOn(dpu, cmd);
}

type Created = { id: string; outs: DpuWorkloadOutputs };

describe.skipIf(skip)("DpuWorkload artifacts: ownership, overwrite, directories, large files", () => {
  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), "workload-artifacts-"));
    lab = await startLab({ count: 1, bootTimeMs: 0 });
    dpu = await rootSession(pool, lab.endpoints);
  });
  afterAll(async () => {
    await pool.closeAll();
    await lab?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  test("a file the workload did not create is refused; with overwrite: true it is backed up and restored", async () => {
    await sh("mkdir -p /opt/shared && printf 'operator settings\\n' >/opt/shared/existing.conf");
    const art = { source: { content: "ours\n" }, destination: "/opt/shared/existing.conf" };
    const refused = await settle(provider.create!(await checked(workload("cfg", [art]))));
    expect(refused).toBeInstanceOf(Error);
    expect((refused as Error).message).toBe(
      `create DpuWorkload cfg (${lab.endpoints.dpus[0]!.ssh.host}:22/cfg): artifacts[0].destination /opt/shared/existing.conf: a file exists there that this workload did not create; set \`overwrite: true\` on the artifact to replace it (the original is backed up and restored when the workload is deleted); nothing was changed`,
    );
    expect(await sh("cat /opt/shared/existing.conf")).toBe("operator settings");

    const c = (await provider.create!(
      await checked(workload("cfg", [{ ...art, overwrite: true }])),
    )) as Created;
    expect(c.outs.status).toBe("running");
    expect(await sh("cat /opt/shared/existing.conf")).toBe("ours");
    // An update keeps the claim (no second backup of our own file).
    const u = await provider.update!(
      c.id,
      c.outs,
      await checked(workload("cfg", [{ ...art, source: { content: "ours v2\n" }, overwrite: true }])),
    );
    expect(await sh("cat /opt/shared/existing.conf")).toBe("ours v2");
    await provider.delete!(c.id, u.outs as DpuWorkloadOutputs);
    expect(await sh("cat /opt/shared/existing.conf")).toBe("operator settings");
  });

  test("two workloads cannot claim one path; deleting one never removes the other's file", async () => {
    const a = (await provider.create!(
      await checked(workload("one", [{ source: { content: "one\n" }, destination: "/opt/both/app.conf" }])),
    )) as Created;
    for (const overwrite of [false, true]) {
      const b = await settle(
        provider.create!(
          await checked(
            workload("two", [
              { source: { content: "two\n" }, destination: "/opt/two/own.conf" },
              { source: { content: "two\n" }, destination: "/opt/both/app.conf", overwrite },
            ]),
          ),
        ),
      );
      expect((b as Error).message).toContain(
        "artifacts[1].destination /opt/both/app.conf: the path belongs to workload one on this DPU; two workloads cannot deploy the same file",
      );
    }
    expect(await sh("cat /opt/both/app.conf")).toBe("one");
    expect(await sh("test -e /opt/two/own.conf || echo absent")).toBe("absent");
    // `two` without the shared path; then deleting `two` (and a failed `two`) leaves `one`'s file alone.
    const b = (await provider.create!(
      await checked(workload("two", [{ source: { content: "two\n" }, destination: "/opt/two/own.conf" }])),
    )) as Created;
    await provider.delete!(b.id, b.outs);
    expect(await sh("cat /opt/both/app.conf")).toBe("one");
    expect(await sh("test -e /opt/two/own.conf || echo absent")).toBe("absent");
    await provider.delete!(a.id, a.outs);
    expect(await sh("test -e /opt/both/app.conf || echo absent")).toBe("absent");
  });

  test("a destination that is a directory (or under a file) is named with its cause", async () => {
    await sh("mkdir -p /opt/adir/sub && printf x >/opt/afile");
    const e1 = await settle(
      provider.create!(
        await checked(
          workload("dirs", [
            { source: { content: "a" }, destination: "/opt/ok.conf" },
            { source: { content: "b" }, destination: "/opt/adir/sub" },
          ]),
        ),
      ),
    );
    expect((e1 as Error).message).toContain(
      "artifacts[1].destination /opt/adir/sub: is a directory on the DPU; an artifact is a file, so give the file's full path (e.g. /opt/adir/sub/<file name>)",
    );
    const e2 = await settle(
      provider.create!(
        await checked(workload("dirs", [{ source: { content: "b" }, destination: "/opt/afile/x.conf" }])),
      ),
    );
    expect((e2 as Error).message).toContain(
      "artifacts[0].destination /opt/afile/x.conf: /opt/afile exists on the DPU and is not a directory",
    );
    expect(await sh("test -e /opt/ok.conf || echo absent")).toBe("absent");
    // Nor may an artifact reach into the provider's own files (another workload's spec, the locks…).
    const e3 = await settle(
      provider.create!(
        await checked(
          workload("dirs", [
            {
              source: { content: "x" },
              destination: "/var/lib/pulumi-dpu/workloads/other/spec/env",
              overwrite: true,
            },
          ]),
        ),
      ),
    );
    expect((e3 as Error).message).toContain(
      "artifacts[0].destination /var/lib/pulumi-dpu/workloads/other/spec/env: is inside /var/lib/pulumi-dpu/workloads",
    );
  });

  test("a URL artifact is streamed through a temporary file that is removed; URL credentials stay out of errors", async () => {
    const img = lab.endpoints.images;
    const file = img.files[0]!;
    const before = readdirSync(tmpdir()).filter((f) => f.startsWith("pulumi-dpu-artifact-")).length;
    const c = (await provider.create!(
      await checked(
        workload("fromurl", [
          {
            source: { url: `${img.baseUrl}/${file.name}` },
            destination: "/opt/fromurl/image.iso",
            sha256: file.sha256,
          },
        ]),
      ),
    )) as Created;
    expect(await sh("sha256sum /opt/fromurl/image.iso | cut -c1-64")).toBe(file.sha256);
    const withCreds = img.baseUrl.replace("://", "://deploy:hunter2-url-pass@");
    const e = await settle(
      provider.update!(
        c.id,
        c.outs,
        await checked(
          workload("fromurl", [
            { source: { url: `${withCreds}/missing.iso` }, destination: "/opt/fromurl/image.iso" },
          ]),
        ),
      ),
    );
    expect((e as Error).message).toContain("artifacts[0] (/opt/fromurl/image.iso): cannot load its source");
    expect((e as Error).message).not.toContain("hunter2-url-pass");
    expect(readdirSync(tmpdir()).filter((f) => f.startsWith("pulumi-dpu-artifact-")).length).toBe(before);
    await provider.delete!(c.id, c.outs);
  });

  test("a 64 MiB artifact is streamed: the provider's memory stays flat (the whole file in memory would be 128+ MiB)", async () => {
    const big = join(tmp, "big.bin");
    // Sparse, with a few real blocks so that it is not all zeros.
    expect(spawnSync("truncate", ["-s", "64M", big]).status).toBe(0);
    for (const seek of [0, 20, 50]) {
      spawnSync("dd", ["if=/dev/urandom", `of=${big}`, "bs=1M", "count=1", `seek=${seek}`, "conv=notrunc"]);
    }
    const sha = spawnSync("sha256sum", [big]).stdout.toString().slice(0, 64);
    const t0 = Date.now();
    // Live memory, not garbage the collector has not reached yet: collect before each sample.
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    gc();
    const base = process.memoryUsage().rss;
    let peak = base;
    const sampler = setInterval(() => {
      gc();
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 250);
    let c: Created;
    try {
      c = (await provider.create!(
        await checked(
          workload("big", [{ source: { path: big }, destination: "/opt/big/blob.bin", sha256: sha }]),
        ),
      )) as Created;
    } finally {
      clearInterval(sampler);
    }
    expect(c.outs.artifactDigests["/opt/big/blob.bin"]).toBe(sha);
    expect(await sh("sha256sum /opt/big/blob.bin | cut -c1-64")).toBe(sha);
    const growthMb = (peak - base) / 1024 / 1024;
    console.log(`64 MiB artifact: RSS +${growthMb.toFixed(1)} MiB, ${Date.now() - t0} ms`);
    expect(growthMb, `RSS grew by ${growthMb.toFixed(1)} MiB for a 64 MiB artifact`).toBeLessThan(64);
    await provider.delete!(c.id, c.outs);
  }, 120_000);
});
