import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { generateHostKey } from "../../provider/host/host-key";
import { buildCidata, SeedBuildError } from "../../provider/host/seed/cidata";
import { renderNoCloud } from "../../provider/host/seed/nocloud";
import { skipOrFail, unavailable } from "../capabilities";
import { identity } from "./fixtures";

const why =
  unavailable("NoCloud seed volume tests", "sshd") ??
  skipOrFail("NoCloud seed volume tests", execOk("xorriso", ["-version"]) ? undefined : "xorriso missing");

function execOk(cmd: string, args: string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

const dir = mkdtempSync(join(tmpdir(), "pulumi-dpu-cidata-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(why !== undefined)("NoCloud cidata volume (read back by blkid and xorriso)", () => {
  it("is an ISO 9660 volume labelled cidata whose Rock Ridge files are exactly the seed documents", async () => {
    const seed = renderNoCloud(identity());
    const iso = await buildCidata(seed);
    const file = join(dir, "seed.iso");
    writeFileSync(file, iso.bytes);
    // util-linux's blkid: the label cloud-init's NoCloud datasource probes for.
    const probe = execFileSync("blkid", ["-p", "-o", "export", file], { encoding: "utf8" });
    expect(probe).toMatch(/^TYPE=iso9660$/m);
    expect(probe).toMatch(/^LABEL=cidata$/m);
    const out = join(dir, "extract");
    execFileSync("xorriso", ["-osirrox", "on", "-indev", file, "-extract", "/", out], { stdio: "ignore" });
    expect(readFileSync(join(out, "meta-data"), "utf8")).toBe(seed.metaData);
    expect(readFileSync(join(out, "user-data"), "utf8")).toBe(seed.userData);
    expect(readFileSync(join(out, "network-config"), "utf8")).toBe(seed.networkConfig);
    // Joliet names too (Windows-style readers, some BMC previewers): the tree without Rock Ridge.
    const joliet = execFileSync("xorriso", ["-read_fs", "norock", "-indev", file, "-ls", "/"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    });
    expect(joliet).toContain("'network-config'");
    expect(joliet).toContain("'meta-data'");
  });

  it("is reproducible: the same identity gives the same bytes, another identity another digest", async () => {
    const key = generateHostKey();
    const a = await buildCidata(renderNoCloud(identity({ hostKey: "generate" }), key));
    // Built later (other wall-clock time, other temp dir): same bytes.
    await new Promise((r) => setTimeout(r, 1100));
    const b = await buildCidata(renderNoCloud(identity({ hostKey: "generate" }), key));
    expect(b.sha256).toBe(a.sha256);
    expect(b.bytes.equals(a.bytes)).toBe(true);
    const c = await buildCidata(renderNoCloud(identity({ hostname: "dpu-1.lab", hostKey: "generate" }), key));
    expect(c.sha256).not.toBe(a.sha256);
  });

  it("says to install xorriso when it is missing", async () => {
    const err = await buildCidata(renderNoCloud(identity()), { xorriso: "/nonexistent/xorriso" }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SeedBuildError);
    expect((err as Error).message).toMatch(/install xorriso \(apt-get install xorriso\)/);
  });
});

describe("NoCloud documents", () => {
  it("carry the identity under cloud-init's key names, and a new identity is a new instance-id", () => {
    const id = identity({ password: { hash: "$6$saltsalt$abcdefghijklmnop" } });
    const key = generateHostKey();
    const seed = renderNoCloud({ ...id, hostKey: "generate" }, key);
    expect(seed.userData.startsWith("#cloud-config\n")).toBe(true);
    const ud = parse(seed.userData) as Record<string, unknown>;
    expect(ud.hostname).toBe("dpu-0.lab");
    expect(ud.ssh_authorized_keys).toEqual(id.authorizedKeys);
    expect(ud.disable_root).toBe(false);
    expect(ud.ssh_keys).toEqual({ ed25519_private: key.privateKey, ed25519_public: key.publicKey });
    expect(ud.chpasswd).toEqual({
      expire: false,
      users: [{ name: "root", password: "$6$saltsalt$abcdefghijklmnop", type: "hash" }],
    });
    expect(seed.holdsSecrets).toBe(true);
    const md = parse(seed.metaData) as Record<string, string>;
    expect(md["local-hostname"]).toBe("dpu-0.lab");
    const nc = parse(seed.networkConfig) as Record<string, unknown>;
    expect(nc).toEqual({
      version: 2,
      ethernets: {
        oob_net0: { addresses: ["198.18.0.10/24"], routes: [{ to: "0.0.0.0/0", via: "198.18.0.1" }] },
      },
    });
    const other = renderNoCloud(identity({ hostname: "dpu-1.lab" }));
    expect((parse(other.metaData) as Record<string, string>)["instance-id"]).not.toBe(md["instance-id"]);
    expect(renderNoCloud(identity()).holdsSecrets).toBe(false);
  });

  it("writes DHCP as dhcp4 and refuses an identity with both or neither", () => {
    const seed = renderNoCloud(identity({ management: { interface: "eth0", dhcp: true } }));
    expect(parse(seed.networkConfig)).toEqual({ version: 2, ethernets: { eth0: { dhcp4: true } } });
    expect(() => identity({ management: { interface: "eth0" } })).toThrow(/static addresses|dhcp/);
    expect(() =>
      identity({ management: { interface: "eth0", dhcp: true, addresses: ["10.0.0.2/24"] } }),
    ).toThrow(/not both/);
  });
});
