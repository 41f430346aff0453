import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { localProcessAlive, processStartTime } from "../../provider/lifecycle/local-process";

// The session registry and the DPU lock decide whether a provider process that left a record is gone. A process
// killed with -9 stays a zombie until its parent reaps it; kill(pid, 0) still succeeds on it, so a killed
// provider's sessions were never reaped while its parent lived (issue 12, item 10).

describe("localProcessAlive", () => {
  it("this process runs; a reused pid (other start time) is not the same process", () => {
    expect(localProcessAlive(process.pid)).toBe(true);
    const start = processStartTime(process.pid);
    expect(start).toMatch(/^\d+$/);
    expect(localProcessAlive(process.pid, start)).toBe(true);
    expect(localProcessAlive(process.pid, "1")).toBe(false);
  });

  it("a pid that does not exist is not alive", () => {
    expect(localProcessAlive(2 ** 22 + 12345)).toBe(false);
  });

  it("a zombie (exited, not reaped) is not alive", async () => {
    // `sleep 0` exits at once; its parent becomes `sleep 2` (exec), which never reaps it.
    const sh = spawn("sh", ["-c", "sleep 0 & echo $!; exec sleep 2"], {
      stdio: ["ignore", "pipe", "ignore"],
    });
    const pid = await new Promise<number>((resolve) =>
      sh.stdout.once("data", (b: Buffer) => resolve(Number(b))),
    );
    try {
      let waited = 0;
      while (waited < 1500) {
        if (!localProcessAlive(pid)) break;
        await new Promise((r) => setTimeout(r, 20));
        waited += 20;
      }
      expect(() => process.kill(pid, 0)).not.toThrow(); // still in the process table
      expect(localProcessAlive(pid)).toBe(false);
    } finally {
      sh.kill("SIGKILL");
    }
  });
});
