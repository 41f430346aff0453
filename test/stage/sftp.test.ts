import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateHostKey } from "../../provider/host/host-key";
import { openStage, StageError } from "../../provider/stage";
import { createSshd, type SshdFixture, sshdUnavailable } from "../ssh/sshd-fixture";
import { bfbAndTail, captureLog, freePort, testLog } from "./helpers";

const why = sshdUnavailable("SFTP image stage against a real sshd");
const fx = bfbAndTail();
let sshd: SshdFixture;
let store: string;

beforeAll(async () => {
  if (why !== undefined) return;
  sshd = await createSshd({ start: true });
  store = join(sshd.dir, "images");
  mkdirSync(store);
});

afterAll(async () => {
  await sshd?.close();
  rmSync(fx.dir, { recursive: true, force: true });
});

/** The SFTP stage of the fixture's sshd as root (key auth, pinned host key), with `over` applied. */
function spec(over: Record<string, unknown> = {}) {
  return {
    kind: "sftp" as const,
    host: "127.0.0.1",
    port: sshd.port,
    username: "root",
    privateKey: sshd.clientKey,
    hostKey: sshd.hostKeyFingerprint,
    directory: store,
    fetchUrl: "http://images.lab/dpu",
    ...over,
  };
}

describe.skipIf(why !== undefined)("SFTP image stage (OpenSSH sshd)", () => {
  it("uploads `cat <BFB> bf.cfg` by digest over a pinned connection and removes it on close", async () => {
    const { error, lines } = await captureLog(async () => {
      const stage = await openStage(spec(), testLog);
      const obj = await stage.publish("dpu-0.bfb", [{ file: fx.bfb }, { bytes: fx.tail }]);
      const path = join(store, `${fx.catSha256}-dpu-0.bfb`);
      expect(obj.url).toBe(`http://images.lab/dpu/${fx.catSha256}-dpu-0.bfb`);
      expect(createHash("sha256").update(readFileSync(path)).digest("hex")).toBe(fx.catSha256);
      const seed = await stage.publish("seed.iso", [{ bytes: Buffer.from("seed") }]);
      expect(existsSync(join(store, `${seed.sha256}-seed.iso`))).toBe(true);
      await stage.close();
      expect(existsSync(path)).toBe(false);
      expect(existsSync(join(store, `${seed.sha256}-seed.iso`))).toBe(false);
    });
    expect(error).toBeUndefined();
    expect(lines.join("\n")).not.toContain(sshd.clientKey.split("\n")[1] ?? "never");
  });

  it("refuses a store presenting another host key, before anything is uploaded", async () => {
    const other = generateHostKey();
    const err = await openStage(spec({ hostKey: other.publicKey }), testLog).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StageError);
    expect((err as Error).message).toMatch(
      /connect to image stage sftp:\/\/root@127\.0\.0\.1:\d+.*host key/i,
    );
    expect((err as Error).message).toMatch(/nothing was sent to the BMC/);
  });

  it("an unreachable store is a clear error naming it", async () => {
    const dead = await freePort();
    const err = await openStage(
      spec({ port: dead, privateKey: undefined, password: "Stage-Password-1" }),
      testLog,
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StageError);
    expect((err as Error).message).toContain(`sftp://root@127.0.0.1:${dead}`);
    expect((err as Error).message).not.toContain("Stage-Password-1");
  });
});
