import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateHostKey } from "../../provider/host/host-key";
import { DpuIdentitySchema } from "../../provider/host/identity.schema";
import { buildCidata } from "../../provider/host/seed/cidata";
import { renderNoCloud } from "../../provider/host/seed/nocloud";

const run = promisify(execFile);

/** A guest script as build-image.sh writes it into the DPU OS image (the heredoc after `<file>" <<'<end>'`). */
function guestScript(file: string, end: string): string {
  const text = readFileSync(resolve("simulator/vm/build-image.sh"), "utf8");
  const m = new RegExp(`/${file}" <<'${end}'\\n([\\s\\S]*?)\\n${end}\\n`).exec(text);
  if (!m?.[1]) throw new Error(`build-image.sh has no ${file} heredoc`);
  return `${m[1]}\n`;
}

interface Parsed {
  meta: Record<string, unknown>;
  user: Record<string, unknown>;
  net: { ethernets: Record<string, { addresses: string[]; routes: { to: string; via: string }[] }> };
}

/** The seed as PyYAML (cloud-init's own YAML loader) reads it: the independent oracle. */
async function pyYaml(seed: string): Promise<Parsed> {
  const py = [
    "import json, sys, yaml",
    "d = sys.argv[1]",
    "r = lambda n: yaml.safe_load(open(d + '/' + n))",
    "print(json.dumps({'meta': r('meta-data'), 'user': r('user-data'), 'net': r('network-config')}))",
  ].join("\n");
  return JSON.parse((await run("python3", ["-c", py, seed])).stdout) as Parsed;
}

/**
 * The DPU OS image's NoCloud reader (dash, with mawk as in Debian minbase or busybox awk), run on the host against a
 * seed DpuHost renders, and checked against PyYAML and OpenSSH: what the VM guest applies from a `cidata` medium.
 */
describe("VM guest NoCloud reader (nocloud.sh in the DPU OS image)", () => {
  let dir: string;
  let script: string;
  let busyboxBin: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "vm-nocloud-"));
    script = join(dir, "nocloud.sh");
    await writeFile(script, guestScript("nocloud.sh", "NOCLOUD"), { mode: 0o755 });
    busyboxBin = join(dir, "busybox-bin");
    await mkdir(busyboxBin);
    await symlink((await run("sh", ["-c", "command -v busybox"])).stdout.trim(), join(busyboxBin, "awk"));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const apply = async (seed: string, root: string, awk: "mawk" | "busybox") => {
    const PATH = awk === "busybox" ? `${busyboxBin}:${process.env.PATH}` : process.env.PATH;
    return run("dash", [script, seed, root], { env: { ...process.env, PATH } });
  };

  it.each(["mawk", "busybox"] as const)(
    "applies DpuHost's seed as PyYAML reads it (%s awk): hostname, root's keys, host key, oob_net0, once per instance",
    async (awk) => {
      const key = generateHostKey();
      const identity = DpuIdentitySchema.parse({
        hostname: "dpu-7.fleet.lab",
        authorizedKeys: [
          (
            await run("sh", [
              "-c",
              `ssh-keygen -q -t ed25519 -N '' -C 'op: #1' -f ${dir}/op-${awk} && cat ${dir}/op-${awk}.pub`,
            ])
          ).stdout.trim(),
          "ssh-rsa AAAAB3NzaC1yc2E= second: 'key' #x",
        ],
        management: {
          interface: "oob_net0",
          addresses: ["198.18.0.10/24", "2001:db8::a/64"],
          gateway: "198.18.0.1",
        },
        hostKey: "generate",
        files: [{ path: "/etc/motd", content: "hello\n  key: value\n", mode: "640" }],
      });
      // The medium DpuHost attaches: the guest finds it by `blkid -p -s LABEL -o value` (seed.sh) and reads
      // its files (here extracted by xorriso, in the guest mounted as iso9660).
      const medium = await buildCidata(renderNoCloud(identity, key));
      const iso = join(dir, `cidata-${awk}.iso`);
      await writeFile(iso, medium.bytes);
      expect((await run("blkid", ["-p", "-s", "LABEL", "-o", "value", iso])).stdout.trim()).toBe("cidata");
      const seed = join(dir, `seed-${awk}`);
      const root = join(dir, `root-${awk}`);
      await run("xorriso", ["-osirrox", "on", "-indev", iso, "-extract", "/", seed]);
      await mkdir(join(root, "etc/ssh"), { recursive: true });
      const want = await pyYaml(seed);
      const out = await apply(seed, root, awk);
      expect(out.stderr).toBe("");
      const at = (p: string) => readFile(join(root, p), "utf8");
      expect((await at("etc/hostname")).trim()).toBe(want.user.hostname);
      expect((await at("root/.ssh/authorized_keys")).trim().split("\n")).toEqual(
        want.user.ssh_authorized_keys,
      );
      const sshKeys = want.user.ssh_keys as Record<string, string>;
      expect(await at("etc/ssh/ssh_host_ed25519_key")).toBe(sshKeys.ed25519_private);
      // OpenSSH derives the delivered public key from the written private key.
      const derived = (await run("ssh-keygen", ["-y", "-f", join(root, "etc/ssh/ssh_host_ed25519_key")]))
        .stdout;
      expect(derived.trim().split(" ").slice(0, 2)).toEqual(sshKeys.ed25519_public!.split(" ").slice(0, 2));
      const eth = want.net.ethernets.oob_net0!;
      const network = await at("etc/systemd/network/10-oob_net0.network");
      expect(network.match(/^Address=.*$/gm)).toEqual(eth.addresses.map((a) => `Address=${a}`));
      expect(network).toContain(`Destination=${eth.routes[0]!.to}\nGateway=${eth.routes[0]!.via}\n`);
      expect(await at("etc/motd")).toBe("hello\n  key: value\n");
      expect((await at("var/lib/cloud/data/instance-id")).trim()).toBe(want.meta["instance-id"]);
      // The same instance again (a later boot with the medium still in): nothing is re-applied.
      await writeFile(join(root, "etc/hostname"), "changed-by-the-operator\n");
      const again = await apply(seed, root, awk);
      expect(again.stdout).toContain("already applied");
      expect(await at("etc/hostname")).toBe("changed-by-the-operator\n");
    },
  );

  it.each(["mawk", "busybox"] as const)(
    "reads hand-written block YAML as PyYAML does (%s awk): quoting, comments, users[root], empty and blank-line block scalars, a default route",
    async (awk) => {
      const seed = join(dir, `seed-edge-${awk}`);
      const root = join(dir, `root-edge-${awk}`);
      await mkdir(seed);
      await mkdir(join(root, "etc/ssh"), { recursive: true });
      const key = (
        await run("sh", [
          "-c",
          `ssh-keygen -q -t ed25519 -N '' -f ${dir}/edge-${awk} && cat ${dir}/edge-${awk}.pub`,
        ])
      ).stdout.trim();
      await writeFile(
        join(seed, "meta-data"),
        `"instance-id": "i-edge" # a comment\nlocal-hostname: other\n`,
      );
      await writeFile(
        join(seed, "user-data"),
        [
          "#cloud-config",
          "hostname: 'edge-dpu'  # single-quoted",
          "users:",
          "- name: root",
          "  ssh_authorized_keys:",
          `  - "${key} a \\"quoted\\" comment"`,
          "  - 'ssh-rsa AAAAB3NzaC1yc2E= it''s #not a comment'",
          "write_files:",
          "- path: /etc/empty-then-next",
          "  content: |",
          "  permissions: '0600'",
          "- path: /etc/blank-lines",
          "  content: |",
          "    first",
          "",
          "      indented",
          "    # not a comment",
          "",
          "",
          "",
        ].join("\n"),
      );
      await writeFile(
        join(seed, "network-config"),
        [
          "version: 2",
          "ethernets:",
          "  mgmt:",
          "    match:",
          "      name: oob_net0",
          "    addresses:",
          "    - 198.18.0.20/24  # static",
          "    routes:",
          "    - to: default",
          "      via: 198.18.0.1",
          "",
        ].join("\n"),
      );
      const want = (await pyYaml(seed)) as unknown as {
        meta: { "instance-id": string };
        user: {
          hostname: string;
          users: { ssh_authorized_keys: string[] }[];
          write_files: { path: string; content: string; permissions?: string }[];
        };
        net: { ethernets: { mgmt: { addresses: string[]; routes: { via: string }[] } } };
      };
      const out = await apply(seed, root, awk);
      expect(out.stderr).toBe("");
      const at = (p: string) => readFile(join(root, p), "utf8");
      expect((await at("etc/hostname")).trim()).toBe(want.user.hostname);
      expect((await at("root/.ssh/authorized_keys")).trim().split("\n")).toEqual(
        want.user.users[0]!.ssh_authorized_keys,
      );
      for (const f of want.user.write_files) expect(await at(f.path.slice(1))).toBe(f.content);
      expect((await stat(join(root, "etc/empty-then-next"))).mode & 0o777).toBe(0o600);
      const network = await at("etc/systemd/network/10-oob_net0.network");
      expect(network.match(/^Address=.*$/gm)).toEqual(
        want.net.ethernets.mgmt.addresses.map((a) => `Address=${a}`),
      );
      // netplan's `to: default` is a networkd route without Destination=.
      expect(network).toContain(`[Route]\nGateway=${want.net.ethernets.mgmt.routes[0]!.via}\n`);
      expect(network).not.toContain("Destination=");
      expect((await at("var/lib/cloud/data/instance-id")).trim()).toBe(want.meta["instance-id"]);
    },
  );

  it("the guest's scripts (nocloud.sh, seed.sh) parse with dash and pass shellcheck --shell=dash", async () => {
    const seedSh = join(dir, "seed.sh");
    await writeFile(seedSh, guestScript("seed.sh", "EOF"));
    for (const f of [script, seedSh]) await run("dash", ["-n", f]);
    const r = await run("shellcheck", [
      "--shell=dash",
      "--severity=warning",
      "--format=gcc",
      script,
      seedSh,
    ]).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? "shellcheck failed" }));
    expect(r.stdout).toBe("");
  });

  it("a hostile seed: a shell-laden host name and a relative write_files path are ignored, nothing runs", async () => {
    const seed = join(dir, "seed-hostile");
    const root = join(dir, "root-hostile");
    await mkdir(seed);
    await mkdir(join(root, "etc/ssh"), { recursive: true });
    const pwn = join(dir, "pwned");
    await writeFile(join(seed, "meta-data"), `instance-id: i-1\nlocal-hostname: "x$(touch ${pwn});y"\n`);
    await writeFile(
      join(seed, "user-data"),
      `#cloud-config\nwrite_files:\n  - path: ../../escape\n    content: "$(touch ${pwn})"\n`,
    );
    const out = await apply(seed, root, "mawk");
    expect(out.stdout).toContain("not a valid host name");
    expect(out.stdout).toContain("without an absolute path");
    expect(existsSync(pwn)).toBe(false);
    expect(existsSync(join(root, "etc/hostname"))).toBe(false);
    expect(existsSync(join(dir, "escape"))).toBe(false);
  });
});
