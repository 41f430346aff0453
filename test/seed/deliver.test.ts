import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stageIdentity } from "../../provider/host/deliver";
import { generateHostKey } from "../../provider/host/host-key";
import { renderBfCfg } from "../../provider/host/seed/bf-cfg";
import { renderNoCloud } from "../../provider/host/seed/nocloud";
import { StageError } from "../../provider/stage";
import { unavailable } from "../capabilities";
import { bfbAndTail, curl, freePort, runAsync, testLog } from "../stage/helpers";
import { identity, loopbackStage } from "./fixtures";

const why = unavailable("identity delivery through the image stage", "sshd", "python3");
const fx = bfbAndTail();
let imagePort: number;
let imageServer: ReturnType<typeof spawn> | undefined;

beforeAll(async () => {
  if (why !== undefined) return;
  // An independent image server: Python's http.server over a directory holding the BFB.
  const root = join(fx.dir, "www");
  mkdirSync(root);
  writeFileSync(join(root, "bf-bundle.bfb"), readFileSync(fx.bfb));
  imagePort = await freePort();
  imageServer = spawn(
    "python3",
    ["-m", "http.server", String(imagePort), "--bind", "127.0.0.1", "--directory", root],
    {
      stdio: "ignore",
    },
  );
  for (let i = 0; i < 100; i++) {
    if ((await curl(["-f", "-I", `http://127.0.0.1:${imagePort}/bf-bundle.bfb`])).status === 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("python3 http.server did not start");
});

afterAll(() => {
  imageServer?.kill();
  rmSync(fx.dir, { recursive: true, force: true });
});

async function builtin() {
  return loopbackStage(await freePort());
}

const WHERE = "provision DpuHost dpu-0 (https://bmc.test)";

describe.skipIf(why !== undefined)("identity delivery through the image stage", () => {
  it("virtual media: stages the cidata volume the BMC fetches (blkid reads its label) and pins the host key", async () => {
    const key = generateHostKey();
    const id = identity({ hostKey: "generate" });
    const staged = await stageIdentity({
      identity: id,
      hostKey: key,
      method: "virtualMedia",
      stage: await builtin(),
      log: testLog,
      where: WHERE,
    });
    try {
      expect(staged.kind).toBe("cidata");
      expect(staged.hostKeyFingerprint).toBe(key.fingerprint);
      expect(staged.holdsSecrets).toBe(true);
      const got = await curl(["-f", staged.url]);
      expect(got.status).toBe(0);
      expect(createHash("sha256").update(got.stdout).digest("hex")).toBe(staged.seedSha256);
      const iso = join(fx.dir, "fetched.iso");
      writeFileSync(iso, got.stdout);
      const probe = await runAsync("blkid", ["-p", "-o", "value", "-s", "LABEL", iso]);
      expect(probe.stdout.toString().trim()).toBe("cidata");
    } finally {
      await staged.close();
    }
    expect((await curl([staged.url])).status).toBe(7);
  });

  it("SimpleUpdate: stages `cat <BFB> bf.cfg` (the BFB fetched once, checked by sha256) and records the bf.cfg digest", async () => {
    const id = identity();
    const bfbSha = createHash("sha256").update(readFileSync(fx.bfb)).digest("hex");
    const staged = await stageIdentity({
      identity: id,
      method: "simpleUpdate",
      stage: await builtin(),
      bfb: { url: `http://127.0.0.1:${imagePort}/bf-bundle.bfb`, sha256: bfbSha, timeoutMs: 30_000 },
      log: testLog,
      where: WHERE,
    });
    try {
      const cfg = renderBfCfg(id, renderNoCloud(id));
      expect(staged.kind).toBe("bf.cfg");
      expect(staged.seedSha256).toBe(createHash("sha256").update(cfg).digest("hex"));
      expect(staged.url).toMatch(/-bf-bundle\.bfb$/);
      const got = await curl(["-f", staged.url]);
      expect(got.stdout.equals(Buffer.concat([readFileSync(fx.bfb), Buffer.from(cfg)]))).toBe(true);
      expect(staged.objectSha256).toBe(createHash("sha256").update(got.stdout).digest("hex"));
    } finally {
      await staged.close();
    }
  });

  it("a BFB that does not match image.sha256 stops before the BMC, and nothing stays staged", async () => {
    const spec = await builtin();
    const err = await stageIdentity({
      identity: identity(),
      method: "simpleUpdate",
      stage: spec,
      bfb: { url: `http://127.0.0.1:${imagePort}/bf-bundle.bfb`, sha256: "0".repeat(64), timeoutMs: 30_000 },
      log: testLog,
      where: WHERE,
    }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/sha256 mismatch/);
    expect((await curl([`http://127.0.0.1:${spec.port}/`])).status).toBe(7);
  });

  it("an advertised URL that does not reach the stage fails before anything else", async () => {
    const spec = { ...(await builtin()), advertiseUrl: `http://127.0.0.1:${await freePort()}` };
    const err = await stageIdentity({
      identity: identity(),
      method: "virtualMedia",
      stage: spec,
      log: testLog,
      where: WHERE,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StageError);
    expect((err as Error).message).toMatch(/nothing was sent to the BMC/);
  });

  it("refuses UEFI HTTP boot and a BFB over scp, naming the resource", async () => {
    const a = await stageIdentity({
      identity: identity(),
      method: "uefiHttp",
      stage: await builtin(),
      log: testLog,
      where: WHERE,
    }).catch((e: unknown) => e);
    expect((a as Error).message).toMatch(
      /^provision DpuHost dpu-0 \(https:\/\/bmc\.test\): identity cannot be delivered with UEFI HTTP boot/,
    );
    const b = await stageIdentity({
      identity: identity(),
      method: "simpleUpdate",
      stage: await builtin(),
      bfb: { url: "scp://images.lab/bf.bfb", timeoutMs: 1000 },
      log: testLog,
      where: WHERE,
    }).catch((e: unknown) => e);
    expect((b as Error).message).toMatch(/needs the BFB over http\(s\)/);
  });
});
