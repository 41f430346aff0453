import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { generateHostKey } from "../../provider/host/host-key";
import { renderNoCloud } from "../../provider/host/seed/nocloud";
import { skipOrFail, unavailable } from "../capabilities";
import { identity } from "./fixtures";

function hasCloudInit(): boolean {
  try {
    execFileSync("cloud-init", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

// cloud-init itself is the oracle (Debian package cloud-init; not a prerequisite of the package, since installing
// it on a workstation makes that machine run cloud-init at boot).
const why =
  unavailable("cloud-init oracle of the NoCloud seed", "sshd") ??
  skipOrFail(
    "cloud-init oracle of the NoCloud seed",
    hasCloudInit() ? undefined : "cloud-init is not installed",
  );

const dir = mkdtempSync(join(tmpdir(), "pulumi-dpu-cloud-init-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(why !== undefined)("cloud-init reads the NoCloud seed", () => {
  it("accepts the user-data (cloud-init schema) with a host key, a password hash and files", () => {
    const seed = renderNoCloud(
      identity({
        hostKey: "generate",
        password: { user: "ubuntu", hash: "$6$saltsalt$abcdefghijklmnopqrstuv" },
        files: [{ path: "/etc/motd", content: "---\n  not: yaml\n'$(reboot)'\n", secret: true }],
      }),
      generateHostKey(),
    );
    const file = join(dir, "user-data");
    writeFileSync(file, seed.userData);
    const out = execFileSync("cloud-init", ["schema", "--config-file", file], { encoding: "utf8" });
    expect(out).toMatch(/Valid cloud-config/);
  });

  for (const [name, management, expected] of [
    [
      "static IPv4 with gateway and DNS",
      {
        interface: "oob_net0",
        addresses: ["198.18.0.10/24"],
        gateway: "198.18.0.1",
        nameservers: ["198.18.0.53"],
      },
      [/Name=oob_net0/, /Address=198\.18\.0\.10\/24/, /Gateway=198\.18\.0\.1/, /DNS=198\.18\.0\.53/],
    ],
    [
      "static IPv6",
      { interface: "eth0", addresses: ["2001:db8::10/64"], gateway: "2001:db8::1" },
      [/Name=eth0/, /Address=2001:db8::10\/64/, /Gateway=2001:db8::1/],
    ],
    ["DHCP", { interface: "eth0", dhcp: true }, [/Name=eth0/, /DHCP=ipv4/]],
  ] as const) {
    it(`renders the network-config (${name}) to systemd-networkd as cloud-init would`, () => {
      const seed = renderNoCloud(identity({ management }));
      const input = join(dir, `network-config-${name.replace(/\W+/g, "-")}`);
      writeFileSync(input, seed.networkConfig);
      const outDir = join(dir, `out-${name.replace(/\W+/g, "-")}`);
      execFileSync(
        "cloud-init",
        ["devel", "net-convert", "-p", input, "-k", "yaml", "-d", outDir, "-D", "debian", "-O", "networkd"],
        { stdio: "ignore" },
      );
      const netDir = join(outDir, "etc", "systemd", "network");
      const rendered = readdirSync(netDir)
        .filter((f) => f.endsWith(".network"))
        .map((f) => readFileSync(join(netDir, f), "utf8"))
        .join("\n");
      for (const re of expected) expect(rendered).toMatch(re);
    });
  }
});
