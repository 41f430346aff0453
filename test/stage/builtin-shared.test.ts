import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { rmSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { openStage, StageError } from "../../provider/stage";
import { builtinStageAddresses } from "../../provider/stage/builtin-server";
import { loopbackStage } from "../seed/fixtures";
import { bfbAndTail, curl, freePort, testLog } from "./helpers";

const fx = bfbAndTail();
afterAll(() => rmSync(fx.dir, { recursive: true, force: true }));

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

describe("built-in image stage shared by concurrent installs on one port (fetched with curl)", () => {
  it("serves every install's objects from one server, drops each install's objects when it ends, and stops after the last", async () => {
    const port = await freePort();
    const n = 3;
    // N installs open the same declared stage at the same time (one fleet-wide `stage`).
    const stages = await Promise.all(
      Array.from({ length: n }, () => openStage(loopbackStage(port), testLog)),
    );
    expect(builtinStageAddresses().filter((a) => a === `127.0.0.1:${port}`)).toHaveLength(1);
    const objs = await Promise.all(
      stages.map((s, i) =>
        s.publish(`dpu-${i}.bfb`, [{ file: fx.bfb }, { bytes: Buffer.from(`dpu-${i}\n`) }]),
      ),
    );
    // The same content published by two installs: one key, kept until both ended.
    const common = await Promise.all(
      stages.slice(0, 2).map((s) => s.publish("common.iso", [{ bytes: fx.tail }])),
    );
    expect(common[0]?.url).toBe(common[1]?.url);
    for (const [i, o] of objs.entries()) {
      const got = await curl(["-f", o.url]);
      expect(got.status).toBe(0);
      expect(sha256(got.stdout)).toBe(o.sha256);
      expect(got.stdout.subarray(-`dpu-${i}\n`.length).toString()).toBe(`dpu-${i}\n`);
    }
    for (let i = 0; i < n; i++) {
      await stages[i]?.close();
      // HTTP 404 (curl -f exit 22): this install's object is gone, the server still serves the others;
      // after the last install, curl exit 7 (could not connect).
      expect((await curl(["-f", objs[i]?.url as string])).status).toBe(i === n - 1 ? 7 : 22);
      for (const o of objs.slice(i + 1))
        expect((await curl(["-f", "-o", "/dev/null", o.url])).status).toBe(0);
      const commonStatus = (await curl(["-f", "-o", "/dev/null", common[0]?.url as string])).status;
      expect(commonStatus).toBe(i === 0 ? 0 : i === n - 1 ? 7 : 22);
    }
    // curl exit 7: could not connect. The server closed with the last install.
    expect((await curl([objs[0]?.url as string])).status).toBe(7);
    expect(builtinStageAddresses()).not.toContain(`127.0.0.1:${port}`);
    // The port is free for a new generation of installs.
    const again = await openStage(loopbackStage(port), testLog);
    const o = await again.publish("again.iso", [{ bytes: fx.tail }]);
    expect((await curl(["-f", o.url])).stdout.equals(fx.tail)).toBe(true);
    await again.close();
  });

  it("still refuses a port held by another process, naming the address, with no server left behind", async () => {
    const port = await freePort();
    const holder = spawn(
      process.execPath,
      ["-e", `require("node:net").createServer().listen(${port}, "127.0.0.1", () => console.log("up"))`],
      { stdio: ["ignore", "pipe", "ignore"] },
    );
    try {
      await new Promise<void>((resolve, reject) => {
        holder.stdout.once("data", () => resolve());
        holder.once("exit", (c) => reject(new Error(`holder exited ${c}`)));
      });
      const errs = await Promise.all(
        [0, 1].map(() => openStage(loopbackStage(port), testLog).catch((e: unknown) => e)),
      );
      for (const err of errs) {
        expect(err).toBeInstanceOf(StageError);
        expect((err as Error).message).toMatch(
          new RegExp(`start the built-in image stage.*127\\.0\\.0\\.1:${port}.*EADDRINUSE`),
        );
      }
      expect(builtinStageAddresses()).not.toContain(`127.0.0.1:${port}`);
    } finally {
      holder.kill();
    }
  });
});
