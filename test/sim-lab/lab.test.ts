import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Lab, startLab } from "../../simulator";
import {
  control,
  type DpuEndpoint,
  login,
  pick,
  rf,
  skipLab,
  ssh,
  sshConnect,
  sshExecOn,
  until,
} from "./helpers";

const SKIP = skipLab();

describe.skipIf(SKIP)("DPU lab (3 DPUs: generic, dell, bluefield)", () => {
  let lab: Lab;
  let ep: (i: number) => DpuEndpoint;
  const image = (name: string) => {
    const f = lab.endpoints.images.files.find((x) => x.name === name);
    if (!f) throw new Error(`no image ${name}`);
    return f;
  };
  const osRelease = async (d: DpuEndpoint, fp?: string) => {
    const r = await ssh(d, "cat /etc/os-release", fp);
    expect(r.code).toBe(0);
    return r.stdout;
  };
  const fpOf = (i: number) => lab.dpus.get(`dpu-${i}`)!.hostKeyFingerprint()!;

  beforeAll(async () => {
    lab = await startLab({ count: 3, profile: "mixed", bootTimeMs: 200 });
    ep = (i) => lab.endpoints.dpus[i]!;
  });
  afterAll(async () => {
    await lab?.stop();
  });

  it("writes a complete endpoints file", () => {
    const e = lab.endpoints;
    expect(e.dpus.map((d) => [d.name, d.profile, d.bmc.systemId])).toEqual([
      ["dpu-0", "generic", "1"],
      ["dpu-1", "dell", "System.Embedded.1"],
      ["dpu-2", "bluefield", "Bluefield"],
    ]);
    const macs = new Set<string>();
    for (const [i, d] of e.dpus.entries()) {
      expect(d.bmc.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      expect(d.bmc.username).toBe("admin");
      expect(d.bmc.password.length).toBeGreaterThanOrEqual(12);
      expect(existsSync(d.bmc.caCertFile)).toBe(true);
      expect(d.ssh).toMatchObject({ host: `198.18.${4 * lab.slot}.${10 + i}`, port: 22, username: "root" });
      expect(statSync(d.ssh.privateKeyFile).mode & 0o777).toBe(0o600);
      expect(d.ssh.hostKeyFingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
      expect(d.ports.map((p) => p.name)).toEqual(["oob_net0", "p0", "p1"]);
      for (const p of d.ports) {
        expect(p.mac).toMatch(/^02(:[0-9a-f]{2}){5}$/);
        macs.add(p.mac);
      }
    }
    expect(macs.size).toBe(9);
    expect(e.control.url).toBe(lab.controlUrl);
    expect(e.images.files.map((f) => f.name)).toEqual(
      expect.arrayContaining(["dpu-os-1.0.iso", "dpu-os-1.1.iso", "corrupt.iso", "bf-bundle-4.10.bfb"]),
    );
  });

  it("boots every DPU with the factory image, its own hostname and only its own processes", async () => {
    const factory = image("dpu-os-1.0.iso");
    for (const [i, d] of lab.endpoints.dpus.entries()) {
      const r = await ssh(
        d,
        "cat /etc/os-release; echo ---; hostname; echo ---; ps -e -o comm= | wc -l; echo ---; ip -o link",
      );
      expect(r.code).toBe(0);
      const [os, host, nproc, links] = r.stdout.split("---\n");
      expect(os).toContain(`IMAGE_ID="${factory.label}"`);
      expect(os).toContain(`DPU_IMAGE_SHA256=${factory.sha256}`);
      expect(os).toContain('NAME="DPU Sim OS"');
      expect(host!.trim()).toBe(`dpu-${i}`);
      expect(Number(nproc)).toBeLessThan(12);
      expect(links).toContain(d.ports[1]!.mac);
    }
    expect(readFileSync("/etc/hostname", "utf8")).not.toMatch(/^dpu-\d/);
  });

  it("connects DPUs through the top-of-rack switch on p0", async () => {
    const net = `198.19.${lab.slot}`;
    expect((await ssh(ep(0), `ip addr add ${net}.1/24 dev p0`)).code).toBe(0);
    expect((await ssh(ep(1), `ip addr add ${net}.2/24 dev p0`)).code).toBe(0);
    const r = await ssh(ep(0), `ping -c 2 -W 2 ${net}.2`);
    expect(r.stdout).toMatch(/2 received/);
  });

  it("reboot (Redfish ForceRestart) ends DPU processes and flushes p0, host key stays", async () => {
    const d = ep(1);
    const before = await ssh(
      d,
      "setsid sleep 4242 </dev/null >/dev/null 2>&1 & sleep 0.2; ps -eo args | grep -cx 'sleep 4242'; ip -4 -o addr show dev p0 | wc -l",
    );
    expect(before.stdout.split("\n").slice(0, 2)).toEqual(["1", "1"]);
    const token = await login(d);
    const sys = `/redfish/v1/Systems/${d.bmc.systemId}`;
    const reset = await rf(d, "POST", `${sys}/Actions/ComputerSystem.Reset`, {
      token,
      body: { ResetType: "ForceRestart" },
    });
    expect(reset.status).toBeLessThan(300);
    await until("OSRunning after reboot", async () => {
      const s = await rf(d, "GET", sys, { token });
      return pick(s.body, "BootProgress.LastState") === "OSRunning" &&
        lab.dpus.get("dpu-1")!.backend.running()
        ? true
        : undefined;
    });
    expect(fpOf(1)).toBe(d.ssh.hostKeyFingerprint);
    const after = await ssh(d, "ps -eo args | grep -cx 'sleep 4242'; ip -4 -o addr show dev p0");
    expect(after.stdout.trim()).toBe("0");
  });

  it("boots a new image over virtual media driven by plain Redfish requests (generic profile)", async () => {
    const d = ep(0);
    const img = image("dpu-os-1.1.iso");
    const token = await login(d);
    const sys = `/redfish/v1/Systems/${d.bmc.systemId}`;
    const ins = await rf(
      d,
      "POST",
      "/redfish/v1/Managers/BMC/VirtualMedia/CD1/Actions/VirtualMedia.InsertMedia",
      {
        token,
        body: { Image: img.url, Inserted: true, WriteProtected: true },
      },
    );
    expect(ins.status).toBeLessThan(300);
    const patch = await rf(d, "PATCH", sys, {
      token,
      body: { Boot: { BootSourceOverrideEnabled: "Once", BootSourceOverrideTarget: "Cd" } },
    });
    expect(patch.status).toBeLessThan(300);
    const reset = await rf(d, "POST", `${sys}/Actions/ComputerSystem.Reset`, {
      token,
      body: { ResetType: "ForceRestart" },
    });
    expect(reset.status).toBeLessThan(300);
    const system = await until("OSRunning with the new image", async () => {
      const s = await rf(d, "GET", sys, { token });
      return pick(s.body, "BootProgress.LastState") === "OSRunning" &&
        lab.dpus.get("dpu-0")!.backend.installedImage()?.label === img.label
        ? s.body
        : undefined;
    });
    expect(pick(system, "Boot.BootSourceOverrideEnabled")).toBe("Disabled");
    const newFp = fpOf(0);
    expect(newFp).not.toBe(d.ssh.hostKeyFingerprint);
    const os = await osRelease(d, newFp);
    expect(os).toContain(`IMAGE_ID="${img.label}"`);
    expect(os).toContain("DPUOS_1_1");
    expect(os).toContain(`DPU_IMAGE_SHA256=${img.sha256}`);
    // the old host key no longer matches (reprovisioned)
    await expect(ssh(d, "true", d.ssh.hostKeyFingerprint)).rejects.toThrow();
  });

  it("installs a BFB through SimpleUpdate and task polling (bluefield profile)", async () => {
    const d = ep(2);
    const img = image("bf-bundle-4.10.bfb");
    const token = await login(d);
    const up = await rf(d, "POST", "/redfish/v1/UpdateService/Actions/UpdateService.SimpleUpdate", {
      token,
      body: { ImageURI: img.url, TransferProtocol: "HTTP" },
    });
    expect(up.status).toBe(202);
    const taskUrl = String((up.body as Record<string, unknown>)["@odata.id"]);
    expect(taskUrl).toMatch(/\/TaskService\/Tasks\/\w+$/);
    const task = await until("task completion", async () => {
      const t = await rf(d, "GET", taskUrl, { token });
      const st = pick(t.body, "TaskState");
      return st === "Completed" || st === "Exception" ? t.body : undefined;
    });
    expect(pick(task, "TaskState")).toBe("Completed");
    await until("OsIsRunning", async () => {
      const s = await rf(d, "GET", `/redfish/v1/Systems/${d.bmc.systemId}`, { token });
      return pick(s.body, "BootProgress.OemLastState") === "OsIsRunning" &&
        lab.dpus.get("dpu-2")!.backend.running()
        ? true
        : undefined;
    });
    const os = await osRelease(d, fpOf(2));
    expect(os).toContain(`IMAGE_ID="${img.label}"`);
    expect(os).toContain(`DPU_IMAGE_SHA256=${img.sha256}`);
  });

  it("fails the boot of corrupt.iso: no OS, BootProgress stuck, error reported", async () => {
    const d = ep(0);
    const token = await login(d);
    const vm = "/redfish/v1/Managers/BMC/VirtualMedia/CD1";
    await rf(d, "POST", `${vm}/Actions/VirtualMedia.EjectMedia`, { token, body: {} });
    const ins = await rf(d, "POST", `${vm}/Actions/VirtualMedia.InsertMedia`, {
      token,
      body: { Image: image("corrupt.iso").url, Inserted: true },
    });
    expect(ins.status).toBeLessThan(300);
    const sys = `/redfish/v1/Systems/${d.bmc.systemId}`;
    await rf(d, "PATCH", sys, {
      token,
      body: { Boot: { BootSourceOverrideEnabled: "Once", BootSourceOverrideTarget: "Cd" } },
    });
    await rf(d, "POST", `${sys}/Actions/ComputerSystem.Reset`, {
      token,
      body: { ResetType: "ForceRestart" },
    });
    const state = await until("a boot error", async () => {
      const s = (await control(lab.controlUrl, "GET", "/state")).body;
      const me = (pick(s, "dpus") as { name: string; bmc: { lastBootError?: string } }[]).find(
        (x) => x.name === "dpu-0",
      );
      return me?.bmc.lastBootError ? me : undefined;
    });
    expect(state.bmc.lastBootError).toBeTruthy();
    const s = await rf(d, "GET", sys, { token });
    expect(pick(s.body, "BootProgress.LastState")).not.toBe("OSRunning");
    expect(lab.dpus.get("dpu-0")!.backend.running()).toBe(false);
    await expect(ssh(d, "true", fpOf(0))).rejects.toThrow();
  });

  it("injects faults through the control API", async () => {
    const d = ep(1);
    const url = lab.controlUrl;
    expect((await control(url, "POST", "/dpu/dpu-1/faults", { sshDown: true })).status).toBe(200);
    await expect(ssh(d, "true")).rejects.toThrow(/ECONNREFUSED/);
    expect((await control(url, "POST", "/dpu/dpu-1/faults", { sshDown: false })).status).toBe(200);
    expect((await ssh(d, "echo up")).stdout.trim()).toBe("up");

    const c = await sshConnect(d);
    const closed = new Promise<void>((r) => c.once("close", () => r()));
    expect((await sshExecOn(c, "echo hi")).stdout.trim()).toBe("hi");
    expect((await control(url, "POST", "/dpu/dpu-1/faults", { dropSshConnections: true })).status).toBe(200);
    await closed;
    expect((await ssh(d, "echo again")).stdout.trim()).toBe("again");

    expect((await control(url, "POST", "/bmc/dpu-1/faults", { fail503Count: 1 })).status).toBe(200);
    expect((await rf(d, "GET", "/redfish/v1")).status).toBe(503);
    expect((await rf(d, "GET", "/redfish/v1")).status).toBe(200);
    const token = await login(d);
    expect((await control(url, "POST", "/bmc/dpu-1/expire-sessions")).status).toBe(200);
    expect((await rf(d, "GET", "/redfish/v1/Systems", { token })).status).toBe(401);
    expect((await control(url, "POST", "/bmc/dpu-1/faults", { latencyMs: 5 })).status).toBe(200);
    expect((await control(url, "POST", "/faults/clear")).status).toBe(200);

    const bad = await control(url, "POST", "/dpu/dpu-1/faults", { sshDown: "yes" });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toMatch(/sshDown/);
    expect((await control(url, "POST", "/bmc/dpu-1/faults", { fail503Count: -1 })).status).toBe(400);
    expect((await control(url, "POST", "/bmc/dpu-1/faults", { bogus: 1 })).status).toBe(400);
    expect((await control(url, "POST", "/bmc/dpu-1/faults", "{not json")).status).toBe(400);
    expect((await control(url, "POST", "/dpu/nope/faults", { sshDown: true })).status).toBe(404);
    expect((await control(url, "POST", "/bmc/nope/faults", {})).status).toBe(404);
  });

  it("stop() removes every namespace, link, mount, process, lock and state directory", async () => {
    const slot = lab.slot;
    const stateDir = lab.stateDir;
    const pids = [...lab.dpus.values()].map((x) =>
      (x.backend as { initPid?: () => number | undefined }).initPid?.(),
    );
    await lab.stop();
    await lab.stop();
    const prefix = `pds${slot}`;
    expect(execFileSync("ip", ["netns", "list"]).toString()).not.toContain(`${prefix}-`);
    expect(readdirSync("/sys/class/net").filter((n) => n.startsWith(prefix))).toEqual([]);
    expect(readFileSync("/proc/mounts", "utf8")).not.toContain(stateDir);
    expect(existsSync(stateDir)).toBe(false);
    expect(existsSync(`/run/pulumi-dpu-sim/slot-${slot}.lock`)).toBe(false);
    for (const pid of pids) {
      if (pid) expect(existsSync(`/proc/${pid}`), `DPU init ${pid} still exists`).toBe(false);
    }
    const ps = execFileSync("ps", ["-eo", "args"]).toString();
    expect(ps).not.toContain(stateDir);
  });
});
