import { createHash } from "node:crypto";
import { rmSync } from "node:fs";
import { createServer } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { openStage, StageError } from "../../provider/stage";
import { loopbackStage } from "../seed/fixtures";
import { bfbAndTail, curl, freePort, testLog } from "./helpers";

const fx = bfbAndTail();
afterAll(() => rmSync(fx.dir, { recursive: true, force: true }));

describe("built-in image stage (fetched with curl)", () => {
  it("serves `cat <BFB> bf.cfg` by digest, with ranges, and stops serving once closed", async () => {
    const port = await freePort();
    const stage = await openStage(loopbackStage(port), testLog);
    const obj = await stage.publish("dpu-0.bfb", [{ file: fx.bfb }, { bytes: fx.tail }]);
    expect(obj.sha256).toBe(fx.catSha256);
    expect(obj.url).toBe(`http://127.0.0.1:${port}/${fx.catSha256}-dpu-0.bfb`);
    const whole = await curl(["-f", obj.url]);
    expect(whole.status).toBe(0);
    expect(createHash("sha256").update(whole.stdout).digest("hex")).toBe(fx.catSha256);
    // A virtual-media reader asks for ranges: the last bytes are the bf.cfg tail.
    const end = await curl(["-f", "-r", `${obj.size - fx.tail.length}-`, obj.url]);
    expect(end.status).toBe(0);
    expect(end.stdout.equals(fx.tail)).toBe(true);
    expect((await curl(["-f", `http://127.0.0.1:${port}/${"0".repeat(64)}-dpu-0.bfb`])).status).toBe(22);
    expect((await curl(["-f", "-X", "PUT", "--data", "x", obj.url])).status).toBe(22);
    await stage.close();
    await stage.close();
    // curl exit 7: could not connect. The server is gone, not just the object.
    expect((await curl([obj.url])).status).toBe(7);
  });

  it("refuses an advertised URL that does not lead back to it, and releases the port", async () => {
    const port = await freePort();
    const elsewhere = await freePort();
    const err = await openStage(loopbackStage(port, elsewhere), testLog).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StageError);
    expect((err as Error).message).toMatch(/advertised URL does not reach it.*nothing was sent to the BMC/);
    expect((err as Error).message).toContain(`127.0.0.1:${port}`);
    // The port is free again.
    await new Promise<void>((resolve, reject) => {
      const s = createServer().once("error", reject);
      s.listen(port, "127.0.0.1", () => s.close(() => resolve()));
    });
  });

  it("names the listen address when the port is taken", async () => {
    const port = await freePort();
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(port, "127.0.0.1", () => r()));
    try {
      const err = await openStage(loopbackStage(port), testLog).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StageError);
      expect((err as Error).message).toMatch(
        new RegExp(`start the built-in image stage.*127\\.0\\.0\\.1:${port}.*EADDRINUSE`),
      );
    } finally {
      taken.close();
    }
  });
});
