import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  forgetSession,
  recordSession,
  sessionRegistryDir,
  staleSessions,
} from "../../provider/redfish/session-registry";

describe("BMC session registry", () => {
  const previous = process.env.PULUMI_DPU_STATE_DIR;
  let dir: string;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "dpu-registry-"));
    process.env.PULUMI_DPU_STATE_DIR = dir;
  });

  afterAll(() => {
    if (previous === undefined) delete process.env.PULUMI_DPU_STATE_DIR;
    else process.env.PULUMI_DPU_STATE_DIR = previous;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("records a session root-only, without any token, and never reports a live owner's session as stale", () => {
    const file = recordSession("https://bmc-a:443", "admin", "/redfish/v1/SessionService/Sessions/7");
    expect(file).toBeDefined();
    expect(fs.statSync(sessionRegistryDir()).mode & 0o777).toBe(0o700);
    expect(fs.statSync(file as string).mode & 0o777).toBe(0o600);
    expect(JSON.parse(fs.readFileSync(file as string, "utf8"))).toMatchObject({
      uri: "/redfish/v1/SessionService/Sessions/7",
      pid: process.pid,
    });
    expect(staleSessions("https://bmc-a:443", "admin")).toEqual([]);
    forgetSession(file);
    expect(fs.existsSync(file as string)).toBe(false);
  });

  it("reports the sessions of a process that is gone, only for the same BMC and user", () => {
    const dead = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"]);
    const pid = Number(dead.stdout.toString());
    expect(pid).toBeGreaterThan(0);
    const write = (origin: string, user: string, uri: string): void => {
      const f = recordSession(origin, user, uri) as string;
      const rec = JSON.parse(fs.readFileSync(f, "utf8")) as Record<string, unknown>;
      fs.writeFileSync(f, JSON.stringify({ ...rec, pid, pidStart: "1" }));
    };
    write("https://bmc-b:443", "admin", "/s/1");
    write("https://bmc-b:443", "other", "/s/2");
    write("https://bmc-c:443", "admin", "/s/3");
    const stale = staleSessions("https://bmc-b:443", "admin");
    expect(stale.map((s) => [s.uri, s.pid])).toEqual([["/s/1", pid]]);
    for (const s of stale) forgetSession(s.file);
    expect(staleSessions("https://bmc-b:443", "admin")).toEqual([]);
  });
});
