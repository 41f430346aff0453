import { rm } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dpuHost } from "../../provider";
import { type Lab, startLab } from "../../simulator";
import { labBmc, loopbackStage } from "../seed/fixtures";
import { skipLab } from "../sim-lab/helpers";
import { type KeyPair, keyPair, scratch } from "../sim-lab/identity-helpers";
import { freePort } from "../stage/helpers";

const SKIP = skipLab();

/**
 * A hostile or careless user declaring a DPU identity through the public runtime (`dpuHost` of
 * provider/index.ts), the way the engine calls it: values that would become code in a seed are refused by
 * check(); an unreachable stage, a BMC with a single slot and UEFI HTTP boot are refused by create() before
 * anything changes on the BMC (its request counters show no write).
 */
describe.skipIf(SKIP)("DpuHost identity inputs (adversary)", () => {
  let lab: Lab;
  let dir: string;
  let operator: KeyPair;

  beforeAll(async () => {
    lab = await startLab({ count: 2, profile: ["generic", "quirk-bare"], bootTimeMs: 200 });
    dir = await scratch("identity-adversary-");
    operator = await keyPair(dir, "operator");
  });
  afterAll(async () => {
    await lab?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function news(i: number, identity: Record<string, unknown>, extra: Record<string, unknown> = {}) {
    const ep = lab.endpoints.dpus[i]!;
    const img = lab.endpoints.images.files.find((f) => f.name === "dpu-os-1.1.iso")!;
    const port = await freePort();
    return {
      bmc: labBmc(ep),
      image: { url: img.url, sha256: img.sha256, timeoutMs: 30_000 },
      ready: { timeoutMs: 30_000, ssh: { host: ep.ssh.host, privateKey: operator.privateKey } },
      identity: {
        hostname: "dpu-0",
        authorizedKeys: [operator.publicKey],
        management: { interface: "oob_net0", dhcp: true },
        ...identity,
      },
      stage: loopbackStage(port),
      ...extra,
    };
  }

  it("check() refuses values that could become code or options in a seed", async () => {
    const hostile: [Record<string, unknown>, string][] = [
      [{ hostname: "dpu-0$(reboot)" }, "identity.hostname"],
      [{ hostname: "dpu-0\nruncmd: [reboot]" }, "identity.hostname"],
      [{ authorizedKeys: [`${operator.publicKey}\nssh-ed25519 AAAAinjected`] }, "identity.authorizedKeys[0]"],
      [{ authorizedKeys: [`command="reboot" ${operator.publicKey}`] }, "identity.authorizedKeys[0]"],
      [{ authorizedKeys: [] }, "identity.authorizedKeys"],
      [{ management: { interface: "oob_net0; reboot", dhcp: true } }, "identity.management.interface"],
      [
        { management: { interface: "eth0", addresses: ["10.0.0.5/24'"] } },
        "identity.management.addresses[0]",
      ],
      [{ password: { hash: "hunter2-clear-text" } }, "identity.password.hash"],
      [{ password: { user: "root;reboot", hash: "$6$saltsalt$abcdefghijklmnop" } }, "identity.password.user"],
      [{ files: [{ path: "../etc/shadow", content: "x" }] }, "identity.files[0].path"],
      [{ files: [{ path: "/etc/x y", content: "x" }] }, "identity.files[0].path"],
      [{ hostKey: "ssh-ed25519 AAAA" }, "identity.hostKey"],
    ];
    for (const [identity, property] of hostile) {
      const r = await dpuHost.check!({}, await news(0, identity));
      expect(
        r.failures?.map((f) => f.property),
        JSON.stringify(identity),
      ).toContain(property);
    }
    const noStage = await news(0, {});
    delete (noStage as { stage?: unknown }).stage;
    const r = await dpuHost.check!({}, noStage);
    expect(r.failures?.map((f) => `${f.property}: ${f.reason}`)).toContainEqual(
      expect.stringMatching(/^stage: an identity needs an image stage/),
    );
    // The clear-text password of a refused hash is not echoed back.
    const pw = await dpuHost.check!({}, await news(0, { password: { hash: "hunter2-clear-text" } }));
    expect(JSON.stringify(pw.failures)).not.toContain("hunter2");
  });

  function writes(i: number): Record<string, number> {
    const r = lab.dpus.get(lab.endpoints.dpus[i]!.name)!.bmc.snapshot().requests;
    return Object.fromEntries(Object.entries(r).filter(([m]) => m !== "GET" && m !== "HEAD"));
  }

  it("create() with a stage the BMC could not reach fails before any request to the BMC", async () => {
    const before = { ...lab.dpus.get(lab.endpoints.dpus[0]!.name)!.bmc.snapshot().requests };
    const n = await news(0, {});
    const dead = await freePort();
    n.stage = { ...n.stage, advertiseUrl: `http://127.0.0.1:${dead}` };
    const checked = await dpuHost.check!({}, n);
    const err = await dpuHost.create!(checked.inputs).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/advertised URL does not reach it.*nothing was sent to the BMC/);
    expect(lab.dpus.get(lab.endpoints.dpus[0]!.name)!.bmc.snapshot().requests).toEqual(before);
  });

  it("create() on a BMC with one virtual-media slot refuses with that reason, changing nothing", async () => {
    const before = writes(1);
    const snap = lab.dpus.get(lab.endpoints.dpus[1]!.name)!.bmc.snapshot();
    const checked = await dpuHost.check!({}, await news(1, {}, {}));
    const err = await dpuHost.create!(checked.inputs).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/needs a second virtual-media slot that takes a CD or USB image/);
    expect(writes(1)).toEqual(before);
    const after = lab.dpus.get(lab.endpoints.dpus[1]!.name)!.bmc.snapshot();
    expect(after.media).toEqual(snap.media);
    expect(after.powerState).toBe(snap.powerState);
  });

  it("the seed (secrets) leaves its slot after the install even with ejectAfterInstall: false", async () => {
    const checked = await dpuHost.check!({}, await news(0, {}, { ejectAfterInstall: false }));
    await dpuHost.create!(checked.inputs);
    const snap = lab.dpus.get(lab.endpoints.dpus[0]!.name)!.bmc.snapshot();
    expect(snap.media.inserted).toBe(true);
    // extraMedia: the media in the BMC's other slots (slot → image); the seed's is gone.
    expect(snap.extraMedia ?? {}).toEqual({});
  });

  it("create() refuses UEFI HTTP boot for an identity before any request to the BMC", async () => {
    const before = { ...lab.dpus.get(lab.endpoints.dpus[0]!.name)!.bmc.snapshot().requests };
    const n = await news(0, {});
    (n.image as Record<string, unknown>).method = "uefiHttp";
    const checked = await dpuHost.check!({}, n);
    const err = await dpuHost.create!(checked.inputs).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/identity cannot be delivered with UEFI HTTP boot/);
    expect(lab.dpus.get(lab.endpoints.dpus[0]!.name)!.bmc.snapshot().requests).toEqual(before);
  });
});
