import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../../engine";
import { LOCK_DIR } from "../../simulator";
import { missingCapability, skipOrFail } from "../capabilities";

// `npm run demo` end to end, as a user runs it: the built CLI in a child process (npm test builds first),
// a 3-DPU lab, examples/fleet through up → change → preview --diff → up → destroy, and nothing left behind.

const BIN = path.join(REPO_ROOT, "bin", "pulumi-dpu.js");

function unavailable(): string | undefined {
  const lab = missingCapability("lab");
  if (lab) return lab;
  if (!fs.existsSync(path.join(REPO_ROOT, "dist", "cli", "demo.js")))
    return "dist/ is not built (npm run build)";
  return undefined;
}
const reason = unavailable();
skipOrFail("demo test", reason);

function run(args: readonly string[]): Promise<{ code: number | null; out: string; pid: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, NODE_OPTIONS: "", FORCE_COLOR: "0" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      out += d;
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      out += d;
    });
    const timer = setTimeout(() => child.kill("SIGINT"), 100_000);
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, out, pid: child.pid ?? -1 });
    });
  });
}

function demoDirs(): string[] {
  return fs.readdirSync(os.tmpdir()).filter((d) => d.startsWith("pulumi-dpu-demo-"));
}

describe.skipIf(reason !== undefined)(`npm run demo${reason ? ` (skipped: ${reason})` : ""}`, () => {
  it("runs the fleet example end to end, shows the dashboard and the plan, and leaves nothing behind", async () => {
    const before = new Set(demoDirs());
    const { code, out, pid } = await run(["demo", "--boot-time-ms", "500"]);
    if (code !== 0) console.error(out);
    expect(code).toBe(0);

    // Which path it took, said plainly.
    expect(out).toMatch(/No Pulumi CLI on this machine \(.+\);|Pulumi CLI v?\d/);
    // The dashboard, at the start and at the end.
    const urls = [...out.matchAll(/Fleet dashboard: (http:\/\/127\.0\.0\.1:\d+\/\S*)/g)].map((m) => m[1]);
    expect(urls.length).toBe(2);
    expect(urls[0]).toBe(urls[1]);

    const harness = out.includes("No Pulumi CLI on this machine");
    if (harness) {
      // up created the fleet, the preview planned the image change without touching hardware, up applied it.
      expect(out).toMatch(/Resources: 9 created/);
      const plan = out.slice(out.indexOf("── pulumi preview --diff"), out.indexOf("── pulumi up (apply"));
      expect(plan).toMatch(/~ {2}dpu:DpuHost {2}dpu-0-host {2}\(update\)/);
      expect(plan).toMatch(
        /~ image\.url: "http:\/\/127\.0\.0\.1:\d+\/dpu-os-1\.1\.iso" => "http:\/\/127\.0\.0\.1:\d+\/dpu-os-2\.0\.iso"/,
      );
      expect(plan).toMatch(/~ env\.GREETING: "hello" => "hello from the demo"/);
      expect(plan).toContain("0 Create, 0 Update, 0 Delete — preview touched no hardware");
      expect(out).toMatch(/images \{"dpu-0":"DPUOS_2_0","dpu-1":"DPUOS_2_0","dpu-2":"DPUOS_2_0"\}/);
      expect(out).toMatch(/Resources: 9 deleted/);
      // Secrets never reach the output.
      expect(out).not.toMatch(/BEGIN OPENSSH PRIVATE KEY/);
    } else {
      expect(out).toContain("dpu-os-2.0.iso");
    }
    expect(out).toContain("lab stopped; nothing left behind");

    // Nothing left: no namespace of the demo's lab slot, no lock owned by the demo, no temporary directory.
    const slot = /lab ready in .* \(slot (\d+), state (\S+)\)/.exec(out);
    expect(slot).not.toBeNull();
    const netns = spawnSync("ip", ["netns", "list"], { encoding: "utf8" }).stdout;
    expect(netns.split("\n").filter((l) => l.startsWith(`pds${slot?.[1]}-`))).toEqual([]);
    const lock = path.join(LOCK_DIR, `slot-${slot?.[1]}.lock`);
    if (fs.existsSync(lock)) expect(JSON.parse(fs.readFileSync(lock, "utf8")).pid).not.toBe(pid);
    expect(fs.existsSync(slot?.[2] ?? "/")).toBe(false);
    expect(demoDirs().filter((d) => !before.has(d))).toEqual([]);
  }, 110_000);
});
