import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { applyIdentity } from "../../simulator/dpu/identity/apply";
import { runBfCfg } from "../../simulator/dpu/identity/bf-cfg";
import { mgmtAddressingOf } from "../../simulator/dpu/identity/network";
import { mgmtNetworkOf, parseNoCloud } from "../../simulator/dpu/identity/nocloud";
import { skipUnless } from "../capabilities";

const MAC = "02:d5:00:00:00:00";

describe("DPU Day-0 seed: NoCloud documents, netplan, bf.cfg", () => {
  let upper: string;
  beforeEach(async () => {
    upper = await mkdtemp(join(tmpdir(), "seed-disk-"));
    for (const d of ["etc/ssh", "var", "opt", "root"]) await mkdir(join(upper, d), { recursive: true });
  });
  afterEach(async () => {
    await rm(upper, { recursive: true, force: true });
  });

  it("reads cloud-init's documented keys; user-data hostname wins over meta-data local-hostname", () => {
    const id = parseNoCloud(
      {
        metaData: "instance-id: iid-1\nlocal-hostname: from-meta\n",
        userData: [
          "#cloud-config",
          "hostname: from-user",
          "ssh_authorized_keys: ['ssh-ed25519 AAAA op']",
          "users:",
          "  - default",
          "  - name: root",
          "    ssh_authorized_keys: ['ssh-ed25519 BBBB root']",
          "  - name: ubuntu",
          "chpasswd:",
          "  users: [{ name: root, password: '$6$x$y', type: hash }]",
          "write_files:",
          "  - { path: /etc/motd, content: aGk=, encoding: b64, permissions: '0600' }",
          "",
        ].join("\n"),
      },
      "test",
    );
    expect(id).toMatchObject({
      instanceId: "iid-1",
      hostname: "from-user",
      authorizedKeys: ["ssh-ed25519 AAAA op", "ssh-ed25519 BBBB root"],
      rootPasswordHash: "$6$x$y",
    });
    expect(id.files).toEqual([{ path: "/etc/motd", content: Buffer.from("hi"), mode: 0o600, append: false }]);
    expect(id.notes.join("\n")).toContain("ubuntu not created");
    expect(
      parseNoCloud({ metaData: "local-hostname: m\n", userData: "#!/bin/sh\necho hi\n" }, "t"),
    ).toMatchObject({
      hostname: "m",
      notes: [expect.stringContaining("not #cloud-config")],
    });
  });

  it("hostile seed values: a host name with a newline is refused, a key cannot add lines", () => {
    const id = parseNoCloud(
      {
        metaData: 'local-hostname: "evil\\nroot"\n',
        userData: '#cloud-config\nssh_authorized_keys: ["ssh-ed25519 AAAA a\\nssh-ed25519 BBBB b"]\n',
      },
      "t",
    );
    expect(id.hostname).toBeUndefined();
    expect(id.notes.join("\n")).toContain("not a valid host name");
    expect(id.authorizedKeys).toEqual(["ssh-ed25519 AAAA a ssh-ed25519 BBBB b"]);
  });

  it("network-config v2: matched by name or MAC, with or without `network:`; gateway4 or a default route", () => {
    const notes: string[] = [];
    const byMac = `network:\n  version: 2\n  ethernets:\n    x:\n      match: {macaddress: "${MAC.toUpperCase()}"}\n      addresses: [10.0.0.5/24]\n      routes: [{to: 0.0.0.0/0, via: 10.0.0.1}]\n`;
    expect(mgmtNetworkOf([byMac], "oob_net0", MAC, notes)).toEqual({
      dhcp4: false,
      addresses: ["10.0.0.5/24"],
      gateway4: "10.0.0.1",
    });
    const byName = "version: 2\nethernets:\n  oob_net0: {dhcp4: true}\n";
    expect(mgmtNetworkOf([byMac, byName], "oob_net0", MAC, notes)).toEqual({ dhcp4: true, addresses: [] });
    expect(
      mgmtNetworkOf(["version: 2\nethernets:\n  eth0: {dhcp4: true}\n"], "oob_net0", MAC, notes),
    ).toBeUndefined();
    expect(mgmtNetworkOf(["version: 1\nconfig: []\n"], "oob_net0", MAC, notes)).toBeUndefined();
    expect(notes.join("\n")).toContain("only version 2");
  });

  it("dhcp4 keeps the lab's default address (no DHCP server in the lab) and says so", async () => {
    await mkdir(join(upper, "etc/netplan"), { recursive: true });
    await writeFile(
      join(upper, "etc/netplan/50-cloud-init.yaml"),
      "version: 2\nethernets:\n  oob_net0: {dhcp4: true}\n",
    );
    const a = await mgmtAddressingOf(upper, "oob_net0", MAC, "198.18.0.10/22");
    expect(a.cidrs).toEqual(["198.18.0.10/22"]);
    expect(a.notes.join("\n")).toMatch(/dhcp4 requested; the lab runs no DHCP server.*198\.18\.0\.10\/22/);
  });

  it("hostile network-config: values that are not addresses never reach `ip`", async () => {
    await mkdir(join(upper, "etc/netplan"), { recursive: true });
    await writeFile(
      join(upper, "etc/netplan/50-cloud-init.yaml"),
      'version: 2\nethernets:\n  oob_net0:\n    addresses: ["10.0.0.5/24\\nlink del dev oob_net0", "10.0.0.6/24"]\n    gateway4: "10.0.0.1\\nnetns del x"\n',
    );
    const a = await mgmtAddressingOf(upper, "oob_net0", MAC, "198.18.0.10/22");
    expect(a.cidrs).toEqual(["10.0.0.6/24"]);
    expect(a.gateway4).toBeUndefined();
    expect(a.notes.join("\n")).toContain("is not an address");
  });

  it("applies to the disk only: write_files outside it or climbing out are skipped; the log holds no secrets", async () => {
    const id = parseNoCloud(
      {
        metaData: "instance-id: iid-2\n",
        userData: [
          "#cloud-config",
          "hostname: h2",
          "ssh_authorized_keys: ['ssh-ed25519 AAAA op']",
          "chpasswd: {users: [{name: root, password: '$6$secret$hash', type: hash}]}",
          "write_files:",
          "  - {path: /etc/ok.conf, content: fine}",
          "  - {path: /etc/../../tmp/climb, content: no}",
          "  - {path: /usr/bin/evil, content: no}",
          "  - {path: relative/x, content: no}",
          "",
        ].join("\n"),
      },
      "test",
    );
    const log = await applyIdentity(upper, id);
    expect(await readFile(join(upper, "etc/hostname"), "utf8")).toBe("h2\n");
    expect(await readFile(join(upper, "etc/ssh/authorized_keys.d/root"), "utf8")).toBe(
      "ssh-ed25519 AAAA op\n",
    );
    expect((await stat(join(upper, "etc/ssh/authorized_keys.d/root"))).mode & 0o777).toBe(0o600);
    expect(await readFile(join(upper, "etc/ok.conf"), "utf8")).toBe("fine");
    expect(existsSync(join(upper, "tmp/climb"))).toBe(false);
    expect(existsSync("/tmp/climb")).toBe(false);
    expect(existsSync(join(upper, "usr/bin/evil"))).toBe(false);
    expect(log.filter((l) => l.includes("skipped"))).toHaveLength(3);
    expect(
      (await readFile(join(upper, "etc/shadow"), "utf8")).split("\n").find((l) => l.startsWith("root:")),
    ).toMatch(/^root:\$6\$secret\$hash:/);
    expect(log.join("\n")).not.toContain("secret");
    expect(await readFile(join(upper, "var/lib/cloud/data/instance-id"), "utf8")).toBe("iid-2\n");
  });

  // The installer runs in its own mount and network namespaces (root, like the lab).
  it.skipIf(skipUnless("the bf.cfg installer test", "lab"))(
    "bf.cfg: hooks run in order with the new root on /mnt, without network; a failing hook is logged",
    async () => {
      const cfg = [
        "bfb_pre_install() { echo pre >> /mnt/opt/order; }",
        "bfb_modify_os() { echo modify >> /mnt/opt/order; echo seeded > /mnt/etc/hostname; ip -o link show | grep -cv ' lo:' > /mnt/opt/links; return 3; }",
        "bfb_post_install() { echo post >> /mnt/opt/order; }",
        "",
      ].join("\n");
      const log = await runBfCfg(cfg, upper, "dpu-t");
      expect(await readFile(join(upper, "opt/order"), "utf8")).toBe("pre\nmodify\npost\n");
      expect(await readFile(join(upper, "etc/hostname"), "utf8")).toBe("seeded\n");
      expect((await readFile(join(upper, "opt/links"), "utf8")).trim()).toBe("0");
      expect(log).toContain("bf.cfg: bfb_modify_os exited 3");
      expect(existsSync("/mnt/opt/order")).toBe(false);
    },
  );
});
