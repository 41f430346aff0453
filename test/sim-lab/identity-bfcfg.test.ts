import { execFile } from "node:child_process";
import { rm } from "node:fs/promises";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Lab, startLab } from "../../simulator";
import { skipLab, until } from "./helpers";
import {
  expectSeeded,
  type KeyPair,
  keyPair,
  openssh,
  planIdentity,
  redfishSession,
  scratch,
} from "./identity-helpers";

const SKIP = skipLab();
const _run = promisify(execFile);

/** A single-quoted shell word (the bf.cfg is sourced by the installer's shell). */
const sq = (v: string): string => `'${v.replace(/'/g, `'\\''`)}'`;

/**
 * bf.cfg variants written here, both through the documented hook `bfb_modify_os` (run by the BFB installer with
 * the new root on /mnt; NVIDIA BlueField BSP "Customizing BlueField Software Deployment Using bf.cfg"):
 * - `nocloud`: the NoCloud documents into the image's own seed directory /mnt/var/lib/cloud/seed/nocloud-net
 *   (where NVIDIA's installer keeps cloud-init's network-config), applied by cloud-init at first boot;
 * - `files`: the files themselves (/etc/hostname, root's authorized_keys, the ed25519 host key, a netplan file).
 */
function bfCfg(
  variant: "nocloud" | "files",
  v: { hostname: string; operator: KeyPair; hostKey: KeyPair; mac: string; cidr: string; gateway: string },
): string {
  const network = [
    "network:",
    "  version: 2",
    "  ethernets:",
    "    oob:",
    "      match:",
    `        macaddress: "${v.mac}"`,
    `      addresses: [${v.cidr}]`,
    `      gateway4: ${v.gateway}`,
    "",
  ].join("\n");
  const body =
    variant === "nocloud"
      ? [
          "  d=/mnt/var/lib/cloud/seed/nocloud-net",
          '  mkdir -p "$d"',
          `  printf '%s' ${sq(`instance-id: iid-bfb-${v.hostname}\nlocal-hostname: ${v.hostname}\n`)} > "$d/meta-data"`,
          `  printf '%s' ${sq(
            [
              "#cloud-config",
              `hostname: ${v.hostname}`,
              "disable_root: false",
              "ssh_authorized_keys:",
              `  - ${v.operator.publicKey}`,
              "ssh_keys:",
              "  ed25519_private: |",
              `    ${v.hostKey.privateKey.trimEnd().replace(/\n/g, "\n    ")}`,
              `  ed25519_public: ${v.hostKey.publicKey}`,
              "",
            ].join("\n"),
          )} > "$d/user-data"`,
          `  printf '%s' ${sq(network)} > "$d/network-config"`,
        ]
      : [
          `  echo ${sq(v.hostname)} > /mnt/etc/hostname`,
          "  mkdir -p /mnt/root/.ssh && chmod 700 /mnt/root/.ssh",
          `  echo ${sq(v.operator.publicKey)} > /mnt/root/.ssh/authorized_keys`,
          "  umask 077",
          `  printf '%s' ${sq(v.hostKey.privateKey)} > /mnt/etc/ssh/ssh_host_ed25519_key`,
          `  echo ${sq(v.hostKey.publicKey)} > /mnt/etc/ssh/ssh_host_ed25519_key.pub`,
          "  mkdir -p /mnt/etc/netplan",
          `  printf '%s' ${sq(network)} > /mnt/etc/netplan/60-mgmt.yaml`,
        ];
  return ["# bf.cfg", "ubuntu_PASSWORD='$1$example$hash'", "", "bfb_modify_os()", "{", ...body, "}", ""].join(
    "\n",
  );
}

/**
 * A BFB with a bf.cfg appended (`cat <BFB> <bf.cfg> > <new BFB>`), pushed through UpdateService.SimpleUpdate:
 * the BMC fetches the whole file, the installer runs the bf.cfg against the new disk, and the DPU comes up with
 * the identity it wrote. Checked with the OpenSSH client, trusting only the bf.cfg's host key.
 */
describe.skipIf(SKIP)("Day-0 identity from a bf.cfg appended to a BFB (SimpleUpdate)", () => {
  let lab: Lab;
  let dir: string;
  let operator: KeyPair;
  const CASES = [
    { profile: "bluefield", variant: "nocloud" },
    { profile: "quirk-bluefield-new", variant: "files" },
  ] as const;

  beforeAll(async () => {
    lab = await startLab({ count: CASES.length, profile: CASES.map((c) => c.profile), bootTimeMs: 200 });
    dir = await scratch("identity-bfcfg-");
    operator = await keyPair(dir, "operator");
  });
  afterAll(async () => {
    await lab?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it.each(CASES.map((c, i) => [c.profile, c.variant, i] as const))(
    "%s, bf.cfg writing %s: the DPU comes up with the hostname, address, operator key and host key",
    async (_profile, variant, i) => {
      const plan = await planIdentity(lab, dir, i, `bfb-${variant}-${i}`, operator);
      const { ep, before, address, hostname, hostKey } = plan;
      const base = lab.endpoints.images.files.find((f) => f.kind === "bfb");
      expect(base).toBeDefined();
      const bfb = Buffer.from(await (await fetch(base!.url)).arrayBuffer());
      const cfg = bfCfg(variant, {
        hostname,
        operator,
        hostKey,
        mac: ep.ports.find((p) => p.name === "oob_net0")!.mac,
        cidr: `${address}/${before.prefix}`,
        gateway: before.nameserver,
      });
      const served = await lab.addImage(`seeded-${i}.bfb`, Buffer.concat([bfb, Buffer.from(cfg)]));

      const s = await redfishSession(ep);
      const svc = await s.get("/redfish/v1/UpdateService");
      const action = (svc.Actions as Record<string, { target: string }>)["#UpdateService.SimpleUpdate"]!;
      await s.send("POST", action.target, { ImageURI: served.url, TransferProtocol: "HTTP" });
      // BlueField installs at once and reboots; the task ends when the install is done.
      await until("the BFB install", async () =>
        lab.dpus.get(ep.name)!.bmc.snapshot().installedImage?.sha256 === served.sha256 ? true : undefined,
      );

      await expectSeeded(plan);
      // The whole file was measured and installed, appended bf.cfg included.
      const installed = lab.dpus.get(ep.name)!.bmc.snapshot().installedImage!;
      expect(installed.sizeBytes).toBe(bfb.length + Buffer.byteLength(cfg));
      // The documented variable the simulated image cannot act on is named in the DPU's log, never its value.
      const log = await openssh(
        dir,
        address,
        operator.privateFile,
        hostKey.publicKey,
        "cat /var/log/dpu-identity.log",
      );
      expect(log.stdout).toContain("ubuntu_PASSWORD is set");
      expect(log.stdout).not.toContain("$1$example$hash");
    },
  );
});
