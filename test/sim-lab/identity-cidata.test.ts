import { execFile } from "node:child_process";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Lab, startLab } from "../../simulator";
import { skipLab } from "./helpers";
import {
  expectSeeded,
  insertMedia,
  type KeyPair,
  keyPair,
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
    lab = await startLab({ count: PROFILES.length, profile: [...PROFILES], bootTimeMs: 200 });
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
});
