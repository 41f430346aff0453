import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { beginCycle, endCycle, unfinishedCycle } from "../../provider/host/host-power-journal";
import { processStartTime } from "../../provider/lifecycle/local-process";

/**
 * The host power journal (provider/host/host-power-journal.ts) across processes: a record left by a process
 * that is gone (kill -9 after the host was powered off) is taken over with the power state it found; one held by
 * a live process of this machine is refused by pid. The live and dead processes are real (a child `sleep`).
 */
describe("host power journal: two provider processes, one host server", () => {
  const dir = mkdtempSync(join(tmpdir(), "dpu-host-journal-"));
  const old = process.env.PULUMI_DPU_STATE_DIR;
  const origin = "https://127.0.0.1:1";
  beforeAll(() => {
    process.env.PULUMI_DPU_STATE_DIR = dir;
  });
  afterAll(() => {
    if (old === undefined) delete process.env.PULUMI_DPU_STATE_DIR;
    else process.env.PULUMI_DPU_STATE_DIR = old;
    rmSync(dir, { recursive: true, force: true });
  });

  /** Rewrites the record as if `pid` had written it. */
  const asPid = (pid: number): void => {
    const sub = join(dir, "host-power");
    const file = join(sub, readdirSync(sub).find((f) => f.endsWith(".json")) as string);
    const rec = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
    const start = processStartTime(pid);
    const body = JSON.stringify({ ...rec, pid, ...(start ? { pidStart: start } : { pidStart: undefined }) });
    writeFileSync(file, body, { mode: 0o600 });
  };

  it("a live other process's cycle is refused naming its pid; a killed one's is taken over with the state it found", async () => {
    const sys = "/redfish/v1/Systems/1";
    beginCycle(origin, sys, "On");
    const child = spawn("sleep", ["30"], { stdio: "ignore" });
    const pid = child.pid as number;
    await new Promise((r) => setTimeout(r, 100));
    asPid(pid);
    expect(() => unfinishedCycle(origin, sys)).toThrow(
      new RegExp(`provider process ${pid} has been power-cycling it`),
    );
    child.kill("SIGKILL");
    await new Promise<void>((r) => child.once("exit", () => r()));
    expect(unfinishedCycle(origin, sys)?.found).toBe("On");
    endCycle(origin, sys);
    expect(unfinishedCycle(origin, sys)).toBeUndefined();
    // The record names no credentials: origin, system, state, pid, host, time.
    beginCycle(origin, sys, "Off");
    const sub = join(dir, "host-power");
    const text = readFileSync(join(sub, readdirSync(sub)[0] as string), "utf8");
    expect(Object.keys(JSON.parse(text)).sort()).toEqual(
      ["found", "host", "origin", "path", "pid", "pidStart", "since"].filter(
        (k) => k !== "pidStart" || text.includes("pidStart"),
      ),
    );
    endCycle(origin, sys);
  });
});
