import { type ChildProcess, execFile, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import type { EndpointsFile } from "../../simulator/contracts";
import { skipUnless } from "../capabilities";
import { skipLab } from "./helpers";

const run = promisify(execFile);
const SKIP = skipLab();
const REPO = join(__dirname, "..", "..");
const BIN = join(REPO, "bin", "pulumi-dpu.js");
/** The scale target: 50 DPUs well under a minute on two cores. */
const COUNT = 50;

const NOT_BUILT = !SKIP && skipUnless("sim CLI test", "dist");

/** Waits for `file` to exist (the sim writes it once every DPU is ready) or for the process to die. */
async function waitForFile(file: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(file)) {
    if (child.exitCode !== null) throw new Error(`pulumi-dpu sim exited with ${child.exitCode}`);
    if (Date.now() > deadline) throw new Error(`no endpoints file after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.skipIf(SKIP || NOT_BUILT)(`npx pulumi-dpu sim --count ${COUNT}`, () => {
  const dir = mkdtempSync(join(tmpdir(), "dpu-sim-cli-"));
  let child: ChildProcess | undefined;
  let out = "";
  afterAll(() => {
    if (child && child.exitCode === null) child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });

  it("writes the endpoints file; curl --cacert and ssh -i work; SIGINT leaves nothing behind", async () => {
    const file = join(dir, "f.json");
    const t0 = Date.now();
    // The node on PATH is the project's (npm puts node_modules/.bin first), as for `npx pulumi-dpu`.
    child = spawn(
      process.execPath,
      [BIN, "sim", "--count", String(COUNT), "--boot-time-ms", "0", "--endpoints-file", file],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    child.stdout?.on("data", (b: Buffer) => {
      out += b.toString();
    });
    child.stderr?.on("data", (b: Buffer) => {
      out += b.toString();
    });
    await waitForFile(file, child, 90_000);
    const startS = (Date.now() - t0) / 1000;
    const ep = JSON.parse(readFileSync(file, "utf8")) as EndpointsFile;
    expect(ep.dpus).toHaveLength(COUNT);
    expect(ep.images.files.map((f) => f.name)).toContain("dpu-os-1.1.iso");
    const slot = /slot (\d+)/.exec(out)?.[1];
    expect(slot).toBeDefined();

    // curl with the printed CA and credentials, against the first and the last BMC.
    for (const d of [ep.dpus[0]!, ep.dpus[COUNT - 1]!]) {
      // The password goes to curl on stdin (`-K -`), never on its command line.
      const stdout = execFileSync(
        "curl",
        [
          "--silent",
          "--show-error",
          "--fail",
          "--cacert",
          d.bmc.caCertFile,
          "-K",
          "-",
          `${d.bmc.url}/redfish/v1/Systems`,
        ],
        { input: `user = "${d.bmc.username}:${d.bmc.password}"\n`, encoding: "utf8" },
      );
      const systems = JSON.parse(stdout) as { Members: { "@odata.id": string }[] };
      expect(systems.Members.map((m) => m["@odata.id"])).toContain(`/redfish/v1/Systems/${d.bmc.systemId}`);
    }
    // ssh -i, with the host key OpenSSH saw checked against the endpoints file's fingerprint.
    const d = ep.dpus[COUNT - 1]!;
    const knownHosts = join(dir, "known_hosts");
    const { stdout: osRelease } = await run("ssh", [
      "-i",
      d.ssh.privateKeyFile,
      "-p",
      String(d.ssh.port),
      "-o",
      "BatchMode=yes",
      "-o",
      "StrictHostKeyChecking=accept-new",
      "-o",
      `UserKnownHostsFile=${knownHosts}`,
      `${d.ssh.username}@${d.ssh.host}`,
      "cat",
      "/etc/os-release",
    ]);
    expect(osRelease).toMatch(/^IMAGE_ID="?DPUOS_1_0"?$/m);
    const { stdout: fp } = await run("ssh-keygen", ["-l", "-f", knownHosts]);
    expect(fp).toContain(d.ssh.hostKeyFingerprint);

    const t1 = Date.now();
    const exited = new Promise<number | null>((r) => child?.once("exit", (code) => r(code)));
    child.kill("SIGINT");
    expect(await exited).toBe(0);
    const stopS = (Date.now() - t1) / 1000;
    console.log(`sim CLI, ${COUNT} DPUs: ready in ${startS.toFixed(1)} s, stopped in ${stopS.toFixed(1)} s`);
    expect(out).toContain("lab stopped");
    expect(readdirSync("/run/netns").filter((n) => n.startsWith(`pds${slot}-`))).toEqual([]);
    expect(readdirSync("/sys/class/net").filter((n) => n.startsWith(`pds${slot}`))).toEqual([]);
    expect(existsSync(`/run/pulumi-dpu-sim/slot-${slot}.lock`)).toBe(false);
  });
});
