import { execFile } from "node:child_process";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Lab, startLab } from "../../simulator";
import { fingerprint, skipLab, until } from "./helpers";
import {
  expectSeeded,
  insertMedia,
  type KeyPair,
  keyPair,
  openssh,
  planIdentity,
  redfishSession,
  restart,
  scratch,
  virtualMediaSlots,
} from "./identity-helpers";

const SKIP = skipLab();
const run = promisify(execFile);

/**
 * A NoCloud seed built here with xorriso (cloud-init's documented layout: volume label `cidata`, `meta-data`,
 * `user-data` `#cloud-config`, `network-config` version 2), served by the lab's image server and inserted
 * through Redfish into each BMC's second slot; after a reset the DPU must come up as the seed says. Checked with
 * the OpenSSH client, trusting only the seed's host key.
 */
describe.skipIf(SKIP)("Day-0 identity from a cidata medium in a second virtual-media slot", () => {
  let lab: Lab;
  let dir: string;
  let operator: KeyPair;
  const PROFILES = ["generic", "dell", "capture-tower"] as const;

  beforeAll(async () => {
    // One more generic DPU for the instance-id test.
    lab = await startLab({ count: PROFILES.length + 1, profile: [...PROFILES, "generic"], bootTimeMs: 200 });
    dir = await scratch("identity-cidata-");
    operator = await keyPair(dir, "operator");
  });
  afterAll(async () => {
    await lab?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const makeSeed = async (i: number, files: Record<string, string>): Promise<Buffer> => {
    const root = join(dir, `seed-${i}`);
    await mkdir(root, { recursive: true });
    for (const [name, text] of Object.entries(files)) await writeFile(join(root, name), text);
    const out = join(dir, `seed-${i}.iso`);
    await run("xorriso", ["-as", "mkisofs", "-quiet", "-R", "-J", "-V", "cidata", "-o", out, root]);
    return readFile(out);
  };

  it.each(PROFILES.map((p, i) => [p, i] as const))(
    "%s: the DPU takes hostname, static address, operator key and host key from the seed",
    async (_profile, i) => {
      const plan = await planIdentity(lab, dir, i, `seeded-${i}`, operator);
      const { ep, before, address, hostname, hostKey } = plan;
      const indent = (text: string) => text.trimEnd().replace(/\n/g, "\n      ");
      const iso = await makeSeed(i, {
        "meta-data": `instance-id: iid-identity-${i}\nlocal-hostname: ${hostname}\n`,
        "user-data": [
          "#cloud-config",
          `hostname: ${hostname}`,
          "disable_root: false",
          "ssh_authorized_keys:",
          `  - ${operator.publicKey}`,
          "ssh_keys:",
          "  ed25519_private: |",
          `      ${indent(hostKey.privateKey)}`,
          `  ed25519_public: ${hostKey.publicKey}`,
          "",
        ].join("\n"),
        "network-config": [
          "version: 2",
          "ethernets:",
          "  mgmt:",
          "    match:",
          `      macaddress: "${ep.ports.find((p) => p.name === "oob_net0")!.mac}"`,
          "    addresses:",
          `      - ${address}/${before.prefix}`,
          "    routes:",
          "      - to: default",
          `        via: ${before.nameserver}`,
          "",
        ].join("\n"),
      });
      const served = await lab.addImage(`cidata-${i}.iso`, iso);

      const s = await redfishSession(ep);
      const slots = await virtualMediaSlots(s, ep.bmc.systemId);
      // The second slot: one that is not the CD (the CD holds the OS installer).
      const second = slots.find((v) => !(v.MediaTypes as string[] | undefined)?.includes("CD"));
      expect(second, `${ep.profile}: a slot besides the CD`).toBeDefined();
      await insertMedia(s, second!, served.url);
      expect((await s.get(String(second!["@odata.id"]))).Image).toBe(served.url);
      await restart(s, ep.bmc.systemId);

      await expectSeeded(plan);
    },
  );

  it("a seed applies once per instance-id; dhcp4 keeps the lab's address (no DHCP server) and the DPU says so", async () => {
    const i = PROFILES.length;
    const ep = lab.endpoints.dpus[i]!;
    const dpu = lab.dpus.get(ep.name)!;
    // OpenSSH as the operator, trusting the key the DPU presents only when it is the one the lab reports.
    const asOperator = async (cmd: string): Promise<string | undefined> => {
      const scan = await run("ssh-keyscan", ["-t", "ed25519", ep.ssh.host]).catch(() => undefined);
      const pub = scan?.stdout
        .split("\n")
        .find((l) => l.includes(" ssh-ed25519 "))
        ?.split(" ")
        .slice(1)
        .join(" ");
      if (!pub || fingerprint(Buffer.from(pub.split(" ")[1] ?? "", "base64")) !== dpu.hostKeyFingerprint())
        return undefined;
      const r = await openssh(dir, ep.ssh.host, operator.privateFile, pub, cmd);
      return r.code === 0 ? r.stdout.trim() : undefined;
    };
    const seed = async (tag: string) => {
      const iso = await makeSeed(i * 10 + tag.length, {
        "meta-data": `instance-id: iid-${tag}\n`,
        "user-data": `#cloud-config\nhostname: ${tag}\nssh_authorized_keys:\n  - ${operator.publicKey}\n`,
        "network-config": "version: 2\nethernets:\n  oob_net0:\n    dhcp4: true\n",
      });
      return (await lab.addImage(`cidata-${tag}.iso`, iso)).url;
    };
    const s = await redfishSession(ep);
    const slot = "/redfish/v1/Managers/BMC/VirtualMedia/USB1";
    const reboot = async (): Promise<string> => {
      await restart(s, ep.bmc.systemId);
      // The reset answered once BootProgress went back to the firmware: OSRunning now means the new boot is up.
      await until(
        "the reboot",
        async () => (dpu.bmc.snapshot().bootProgress.lastState === "OSRunning" ? true : undefined),
        30_000,
      );
      return until("the DPU back with the operator key", () => asOperator("hostname"), 30_000);
    };
    await insertMedia(s, await s.get(slot), await seed("first"));
    expect(await reboot()).toBe("first");
    const log = (await asOperator("cat /var/log/dpu-identity.log")) ?? "";
    expect(log).toMatch(/dhcp4 requested; the lab runs no DHCP server, so oob_net0 keeps the lab's address/);
    expect(log).toContain(ep.ssh.host);
    // Changed on the DPU, rebooted with the same seed still attached: cloud-init does not apply it again.
    expect(await asOperator("echo changed > /etc/hostname && echo ok")).toBe("ok");
    expect(await reboot()).toBe("changed");
    // A new instance-id is applied at the next boot.
    await s.send("POST", `${slot}/Actions/VirtualMedia.EjectMedia`, {});
    await insertMedia(s, await s.get(slot), await seed("second"));
    expect(await reboot()).toBe("second");
  });
});
