import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type Lab, LOCK_DIR, startLab } from "../../simulator";
import { skipLab, ssh } from "./helpers";

const SKIP = skipLab();
const STALE_SLOT = 63;

describe.skipIf(SKIP)("lab slots", () => {
  const labs: Lab[] = [];
  let sleeper: ChildProcess | undefined;
  afterAll(async () => {
    for (const l of labs) await l.stop();
    sleeper?.kill("SIGKILL");
  });

  it("cleans a stale slot of a killed lab, and two labs side by side do not clash", async () => {
    // A lab whose owner died: lock with a pid that cannot exist, namespace, links, a process, a state dir.
    const prefix = `pds${STALE_SLOT}`;
    const staleState = mkdtempSync(join(tmpdir(), "pulumi-dpu-stale-"));
    mkdirSync(join(staleState, "dpus"));
    execFileSync("ip", ["-batch", "-"], {
      input: [
        `netns add ${prefix}-dpu0`,
        `link add ${prefix}br type bridge`,
        `link add ${prefix}m0 type veth peer name oob_net0 netns ${prefix}-dpu0`,
        `link set ${prefix}m0 master ${prefix}br`,
        "",
      ].join("\n"),
    });
    sleeper = spawn("ip", ["netns", "exec", `${prefix}-dpu0`, "sleep", "300"], { stdio: "ignore" });
    await new Promise((r) => setTimeout(r, 100));
    // The lock goes last: labs started concurrently by other test files clean stale slots too, and must not
    // see a half-planted one.
    mkdirSync(LOCK_DIR, { recursive: true });
    writeFileSync(
      join(LOCK_DIR, `slot-${STALE_SLOT}.lock`),
      JSON.stringify({ pid: 99_999_999, stateDir: staleState, ownsStateDir: true, stateEntries: [] }),
    );

    const [a, b] = await Promise.all([
      startLab({ count: 1, bootTimeMs: 0 }),
      startLab({ count: 1, bootTimeMs: 0, profile: "dell" }),
    ]);
    labs.push(a, b);

    // stale slot gone entirely
    expect(readdirSync("/run/netns").filter((n) => n.startsWith(`${prefix}-`))).toEqual([]);
    expect(readdirSync("/sys/class/net").filter((n) => n.startsWith(prefix))).toEqual([]);
    expect(existsSync(staleState)).toBe(false);
    expect(existsSync(join(LOCK_DIR, `slot-${STALE_SLOT}.lock`))).toBe(false);
    await new Promise<void>((r) =>
      sleeper?.exitCode !== null || sleeper.signalCode ? r() : sleeper.once("exit", () => r()),
    );
    expect(sleeper.signalCode).toBe("SIGKILL");

    // two labs, two slots, disjoint addresses and MACs, both reachable
    expect(a.slot).not.toBe(b.slot);
    const da = a.endpoints.dpus[0]!;
    const db = b.endpoints.dpus[0]!;
    expect(da.ssh.host).not.toBe(db.ssh.host);
    expect(da.ports.map((p) => p.mac)).not.toEqual(db.ports.map((p) => p.mac));
    expect((await ssh(da, "hostname")).stdout.trim()).toBe("dpu-0");
    expect((await ssh(db, "hostname")).stdout.trim()).toBe("dpu-0");

    // stopping one leaves the other running
    await a.stop();
    expect(existsSync(`/run/netns/pds${a.slot}-dpu0`)).toBe(false);
    expect(existsSync(`/run/netns/pds${b.slot}-dpu0`)).toBe(true);
    expect((await ssh(db, "cat /etc/os-release")).stdout).toContain("DPUOS_1_0");
    await b.stop();
    expect(existsSync(`/run/netns/pds${b.slot}-dpu0`)).toBe(false);
  });

  it("starts blank DPUs without an operating system", async () => {
    const lab = await startLab({ count: 2, blank: true, bootTimeMs: 0, profile: "intel-ipu" });
    labs.push(lab);
    for (const d of lab.dpus.values()) {
      expect(d.backend.installedImage()).toBeUndefined();
      expect(d.backend.running()).toBe(false);
      expect(d.bmc.snapshot().powerState).toBe("Off");
    }
    expect(lab.endpoints.dpus.every((d) => d.ssh.hostKeyFingerprint === "")).toBe(true);
    await lab.stop();
  });

  it("rejects bad options", async () => {
    await expect(startLab({ count: 0 })).rejects.toThrow(/count/);
    // biome-ignore lint/suspicious/noExplicitAny: deliberately invalid input
    await expect(startLab({ count: 1, profile: "hp" as any })).rejects.toThrow(/profile/);
  });
});
