import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createDpuWorkloadProvider, type DpuWorkloadOutputs } from "../../provider/resources/dpu-workload";
import { createSshConnector } from "../../provider/ssh";
import type { SshSession } from "../../provider/ssh/types";
import { MAX_LOG_BYTES, SUPERVISOR_SH } from "../../provider/workload/supervisor-script";
import { type Lab, startLab } from "../../simulator";
import { connectionFor, labUnavailable, rootSession, shOn } from "../workload/helpers";

// Issue 12 item 9: the documented "at most 1 MiB" log reached 40 MB and read() then took 6.7 s. The supervisor
// rotated once a second with `cp`, so a fast writer outran it. Now the child writes into a pipe and the log
// never grows past the cap, whatever the writer's speed, under dash and busybox ash.

const FLOOD_BYTES = 20_000_000;
/** Writes ~20 MB of lines as fast as it can, says so, then stays up. */
const FLOOD = `yes 'flood line 0123456789 abcdefghijklmnopqrstuvwxyz' | head -c ${FLOOD_BYTES}; echo; echo flood-done; exec sleep 600`;
/** A segment may exceed the cap by the supervisor's own short lines. */
const SLACK = 4096;

/** Asserts that a log directory holds at most the capped log and one rotated copy. */
function expectCapped(files: Record<string, number>): void {
  expect(Object.keys(files).sort()).toEqual(expect.arrayContaining(["output.log"]));
  for (const name of Object.keys(files)) expect(["output.log", "output.log.1", "spec-key"]).toContain(name);
  // The documented bound is the whole log: both segments together (review of issue 12: 1 MiB each reached 2 MiB).
  expect((files["output.log"] ?? 0) + (files["output.log.1"] ?? 0)).toBeLessThanOrEqual(
    MAX_LOG_BYTES + SLACK,
  );
}

describe("the supervisor caps its log under both /bin/sh flavours (local, no lab)", () => {
  const tmp = mkdtempSync(join(tmpdir(), "sup-log-"));
  const started: ChildProcess[] = [];
  afterAll(() => {
    // Only the process groups this test started (each supervisor is a group leader: detached).
    for (const c of started) if (c.pid) spawnSync("kill", ["-KILL", "--", `-${c.pid}`]);
    rmSync(tmp, { recursive: true, force: true });
  });

  /** A PATH of busybox applets only, so that the busybox run uses no GNU tool either. */
  function busyboxPath(): string {
    const dir = join(tmp, "busybox-bin");
    mkdirSync(dir, { recursive: true });
    const applets = [
      "sh",
      "dd",
      "wc",
      "mv",
      "rm",
      "mkdir",
      "mkfifo",
      "cat",
      "sleep",
      "date",
      "sha256sum",
      "cksum",
      "ls",
    ];
    for (const a of [...applets, "head", "yes", "echo", "id", "kill", "tr"]) {
      if (!existsSync(join(dir, a))) symlinkSync("/bin/busybox", join(dir, a));
    }
    return dir;
  }

  for (const shell of ["dash", "busybox"] as const) {
    test(`${shell}: a 20 MB burst leaves at most 1 MiB in all (two segments), and no byte is lost`, async () => {
      const w = join(tmp, shell);
      mkdirSync(join(w, "spec"), { recursive: true });
      writeFileSync(join(w, "supervisor.sh"), SUPERVISOR_SH);
      writeFileSync(join(w, "spec/argv"), `sh\n-c\n${FLOOD}\n`);
      writeFileSync(join(w, "spec/env"), "");
      writeFileSync(join(w, "spec/meta"), "restart=no\nworkdir=\nuser=\n");
      writeFileSync(join(w, "spec/artifacts"), "");
      const env =
        shell === "busybox"
          ? { ...process.env, PATH: busyboxPath() }
          : { ...process.env, PATH: "/usr/bin:/bin" };
      const bin = shell === "busybox" ? join(busyboxPath(), "sh") : "/usr/bin/dash";
      const child = spawn(bin, [join(w, "supervisor.sh"), w], { detached: true, stdio: "ignore", env });
      started.push(child);
      const log = join(w, "log/output.log");
      await expect
        .poll(() => existsSync(log) && readFileSync(log, "utf8").includes("flood-done"), { timeout: 20_000 })
        .toBe(true);
      const files = Object.fromEntries(
        readdirSync(join(w, "log")).map((f) => [f, statSync(join(w, "log", f)).size]),
      );
      expectCapped(files);
      // Rotation loses nothing: what is left is exactly the tail of the stream, with the supervisor's lines.
      const kept = readFileSync(`${log}.1`, "utf8") + readFileSync(log, "utf8");
      const flood = kept.replace(/^\[supervisor [^\n]*\n/gm, "");
      expect(flood.endsWith("\nflood-done\n")).toBe(true);
      expect(
        flood.split("\n").filter((l) => l !== "" && l !== "flood-done" && !l.startsWith("flood line")).length,
      ).toBeLessThanOrEqual(1);
      expect(readdirSync(join(w, "run"))).toContain("log.fifo");
    }, 30_000);
  }
});

const skip = labUnavailable() !== undefined;
const pool = createSshConnector();
const provider = createDpuWorkloadProvider({ connector: pool });
const ROOT = "/var/lib/pulumi-dpu/workloads";
let lab: Lab;

function session(index: number): Promise<SshSession> {
  return rootSession(pool, lab.endpoints, index);
}

/** Runs `cmd` with the DPU's own /bin/sh (the busybox image has no bash). */
async function sh(index: number, cmd: string): Promise<string> {
  return shOn(await session(index), cmd);
}

describe.skipIf(skip)("a workload flooding its log on lab DPUs (dash and busybox /bin/sh)", () => {
  beforeAll(async () => {
    lab = await startLab({ count: 2, bootTimeMs: 0, shell: ["dash", "busybox"] });
  }, 120_000);
  afterAll(async () => {
    await pool.closeAll();
    await lab?.stop();
  });

  for (const [index, shell] of [
    [0, "dash"],
    [1, "busybox"],
  ] as const) {
    test(`${shell}: the log stays capped and read() stays fast`, async () => {
      const r = await provider.check!(
        {},
        {
          connection: connectionFor(lab.endpoints, index),
          name: "flood",
          runtime: "process",
          shell: true,
          command: [FLOOD],
          restart: "no",
        },
      );
      expect(r.failures).toEqual([]);
      const c = (await provider.create!(r.inputs)) as { id: string; outs: DpuWorkloadOutputs };
      const dir = `${ROOT}/flood/log`;
      await expect
        .poll(async () => sh(index, `grep -c flood-done ${dir}/output.log 2>/dev/null || true`), {
          timeout: 30_000,
        })
        .toBe("1");
      const listing = await sh(index, `cd ${dir} && for f in *; do echo "$f $(wc -c <"$f")"; done`);
      const files = Object.fromEntries(
        listing.split("\n").map((l) => {
          const [name, size] = l.trim().split(/\s+/);
          return [name ?? "", Number(size)];
        }),
      );
      expectCapped(files);
      const t0 = performance.now();
      const read = await provider.read!(c.id, c.outs);
      const ms = performance.now() - t0;
      expect(read.props?.status).toBe("running");
      expect(ms).toBeLessThan(1000);
      // Dead, the tail is kept in state: bounded, and from the end of the log.
      await sh(index, `kill -KILL $(cat ${ROOT}/flood/run/child.pid)`);
      await expect
        .poll(async () => (await provider.read!(c.id, c.outs)).props?.status, { timeout: 10_000 })
        .toBe("failed");
      const t1 = performance.now();
      const dead = await provider.read!(c.id, c.outs);
      expect(performance.now() - t1).toBeLessThan(1000);
      const tail = dead.props?.logTail as string;
      expect(tail).toContain("flood-done");
      expect(tail.length).toBeLessThanOrEqual(4096);
      await provider.delete!(c.id, c.outs);
      expect(await sh(index, `test -e ${ROOT}/flood || echo gone`)).toBe("gone");
    }, 90_000);
  }
});
