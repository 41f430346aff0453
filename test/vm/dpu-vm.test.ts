import { readFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { diffInputs } from "../../provider/lifecycle";
import { setLogSink } from "../../provider/log";
import { closeAllPools, RedfishClient } from "../../provider/redfish";
import { type DpuHostOutputs, dpuHost } from "../../provider/resources/dpu-host";
import {
  createDpuUnderlayProvider,
  DpuUnderlayInputsSchema,
  type DpuUnderlayOutputs,
} from "../../provider/resources/dpu-underlay";
import { DPU_UNDERLAY_INPUT_KEYS, dpuUnderlayFieldRules } from "../../provider/resources/dpu-underlay.schema";
import { createDpuWorkloadProvider, type DpuWorkloadOutputs } from "../../provider/resources/dpu-workload";
import { createSshConnector, type SshSession } from "../../provider/ssh";
import { type Lab, startLab } from "../../simulator";
import type { VmDpu } from "../../simulator/vm";
import { inputsFor } from "../dpu-host/helpers";
import { labBmc, loopbackStage } from "../seed/fixtures";
import { addressFromTop, keyPair, openssh, scratch } from "../sim-lab/identity-helpers";
import { freePort } from "../stage/helpers";
import { mark, timings, vmLabUnavailable } from "./vm-lab";

const missing = vmLabUnavailable();
const VM_ISO = "dpu-os-vm.iso";

describe.skipIf(missing !== undefined)(`real-VM DPUs${missing ? ` (skipped: ${missing})` : ""}`, () => {
  let lab: Lab;
  let restoreLog: () => void;
  const pool = createSshConnector();
  const t0 = Date.now();
  const vm = (name: string): VmDpu => lab.dpus.get(name)!.backend as VmDpu;
  const session = async (index: number, fingerprint: string): Promise<SshSession> => {
    const d = lab.endpoints.dpus[index]!;
    return pool.session({
      host: d.ssh.host,
      port: d.ssh.port,
      username: d.ssh.username,
      privateKey: readFileSync(d.ssh.privateKeyFile, "utf8"),
      hostKey: fingerprint,
      jumpHosts: [],
      dialAttempts: 3,
      dialTimeoutMs: 5000,
      keepaliveIntervalMs: 2000,
      sudo: false,
    });
  };

  const bmcClient = (i: number): RedfishClient => {
    const d = lab.endpoints.dpus[i]!;
    return new RedfishClient({
      endpoint: d.bmc.url,
      username: d.bmc.username,
      password: d.bmc.password,
      caCert: readFileSync(d.bmc.caCertFile, "utf8"),
      auth: "basic",
    });
  };
  const waitFor = async (cond: () => boolean, timeoutMs: number): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error("timed out");
      await new Promise((r) => setTimeout(r, 500));
    }
  };

  beforeAll(async () => {
    restoreLog = setLogSink(() => undefined);
    const t = Date.now();
    // mixed profiles: dpu-0 generic (VM, BIOS), dpu-1 dell (namespace), dpu-2 bluefield (VM, UEFI).
    lab = await startLab({
      count: 3,
      profile: "mixed",
      backend: ["vm", "namespace", "vm"],
      blank: true,
      onProgress: (m) => timings.push(`lab: ${m}`),
    });
    mark("lab start (image cached or built, blank DPUs)", t);
  });
  afterAll(async () => {
    restoreLog?.();
    await pool.closeAll();
    await closeAllPools();
    await lab?.stop();
    mark("end to end", t0);
    console.log(`VM proof timings:\n  ${timings.join("\n  ")}`);
  });

  it("DpuHost boots the DPU OS ISO through virtual media on a blank VM and reads os-release", async () => {
    const news = inputsFor(lab.endpoints, 0, VM_ISO, { method: "virtualMedia", readyTimeoutMs: 300_000 });
    const t = Date.now();
    const outs = (await dpuHost.create!(news)).outs as DpuHostOutputs;
    mark("DpuHost virtual media: blank VM to os-release over SSH", t);
    timings.push(`dpu-0 guest boot (ms after QEMU start): ${JSON.stringify(vm("dpu-0").lastBootTiming())}`);
    expect(outs.osRelease.ID).toBe("dpuos");
    expect(outs.osRelease.IMAGE_ID).toBe("DPUOS_VM_1_0");
    expect(outs.osRelease.DPU_IMAGE_SHA256).toBe(news.image.sha256);
    expect(vm("dpu-0").bootStage()).toBe("os-running");
    const snap = lab.dpus.get("dpu-0")!.bmc.snapshot();
    expect(snap.bootProgress.lastState).toBe("OSRunning");
    expect(snap.override.enabled).toBe("Disabled"); // the Once override was consumed by that boot
    const s = await session(0, outs.hostKeyFingerprint!);
    // No seed was attached: the image's defaults (its name as hostname, the lab's address and key).
    expect((await s.run(["hostname"])).stdout.trim()).toBe("dpu-0");
    const uname = (await s.run(["uname", "-r"])).stdout.trim();
    expect(uname).toMatch(/^6\.1\./);
    const init = (await s.run(["cat", "/proc/1/comm"])).stdout.trim();
    expect(init).toBe("systemd");
    const links = (await s.run(["ip", "-br", "link"])).stdout;
    for (const p of lab.endpoints.dpus[0]!.ports)
      expect(links).toMatch(new RegExp(`^${p.name}\\s.*${p.mac}`, "m"));
  });

  it("DpuHost boots the same ISO on the BlueField-like profile through UefiHttp (UEFI firmware)", async () => {
    const news = inputsFor(lab.endpoints, 2, VM_ISO, { method: "uefiHttp", readyTimeoutMs: 300_000 });
    const t = Date.now();
    const outs = (await dpuHost.create!(news)).outs as DpuHostOutputs;
    mark("DpuHost UefiHttp (bluefield, OVMF): blank VM to os-release over SSH", t);
    timings.push(`dpu-2 guest boot (ms after QEMU start): ${JSON.stringify(vm("dpu-2").lastBootTiming())}`);
    expect(outs.osRelease.IMAGE_ID).toBe("DPUOS_VM_1_0");
    expect(outs.osRelease.DPU_IMAGE_SHA256).toBe(news.image.sha256);
    const snap = lab.dpus.get("dpu-2")!.bmc.snapshot();
    expect(snap.bootProgress).toMatchObject({ lastState: "OEM", oemLastState: "OsIsRunning" });
    const s = await session(2, outs.hostKeyFingerprint!);
    // Booted through UEFI: the guest sees EFI runtime services.
    expect((await s.run(["sh", "-c", "test -d /sys/firmware/efi && echo uefi"])).stdout.trim()).toBe("uefi");
  });

  it("DpuUnderlay configures p0 (addresses, VLAN, route) in the guest, persists with networkd, survives a BMC reboot", async () => {
    // The namespace DPU (dell profile) gets a runtime address on the same ToR so the VM has a peer.
    const nsHost = (await dpuHost.create!(inputsFor(lab.endpoints, 1, "dpu-os-1.0.iso")))
      .outs as DpuHostOutputs;
    const underlay = createDpuUnderlayProvider({ connector: pool });
    const conn = (i: number, fp: string) => ({
      host: lab.endpoints.dpus[i]!.ssh.host,
      username: "root",
      privateKey: readFileSync(lab.endpoints.dpus[i]!.ssh.privateKeyFile, "utf8"),
      hostKey: fp,
    });
    const vmFp = lab.dpus.get("dpu-0")!.hostKeyFingerprint()!;
    const peer = DpuUnderlayInputsSchema.parse({
      connection: conn(1, nsHost.hostKeyFingerprint!),
      interfaces: [{ name: "p0", addresses: ["198.19.1.2/24"] }],
      persist: "none",
    });
    await underlay.create!(peer);
    const decl = DpuUnderlayInputsSchema.parse({
      connection: conn(0, vmFp),
      interfaces: [
        {
          name: "p0",
          mtu: 1500,
          addresses: ["198.19.1.1/24", "2001:db8:19::1/64"],
          vlans: [{ id: 100, addresses: ["198.19.100.1/24"] }],
        },
      ],
      routes: [{ destination: "198.19.200.0/24", via: "198.19.1.2", metric: 50 }],
      persist: "auto",
      safety: { rollbackAfterSeconds: 60, probes: [{ ping: "198.19.1.2" }] },
    });
    const t = Date.now();
    const created = await underlay.create!(decl);
    mark("DpuUnderlay create in the guest (networkd)", t);
    const outs = created.outs as DpuUnderlayOutputs;
    expect(outs.persistence.backend).toBe("networkd");
    expect(outs.persistence.files.some((f) => f.endsWith(".netdev"))).toBe(true);
    const s = await session(0, vmFp);
    const vlanInfo = (await s.run(["ip", "-d", "-j", "link", "show", "p0.100"])).stdout;
    expect(JSON.parse(vlanInfo)[0].linkinfo).toMatchObject({ info_kind: "vlan", info_data: { id: 100 } });
    await s.run(["ping", "-c", "1", "-W", "3", "198.19.1.2"]); // through the ToR to the namespace DPU

    // VLAN traffic between two DPUs: the namespace DPUs' kernel has no 802.1Q, the guests' kernels do. The
    // BlueField-like VM (dpu-2, booted by the UefiHttp test) joins VLAN 100 on the same ToR.
    const fp2 = lab.dpus.get("dpu-2")!.hostKeyFingerprint()!;
    const peerVm = DpuUnderlayInputsSchema.parse({
      connection: conn(2, fp2),
      interfaces: [
        { name: "p0", addresses: ["198.19.1.3/24"], vlans: [{ id: 100, addresses: ["198.19.100.3/24"] }] },
      ],
      persist: "none",
      safety: { probes: [{ ping: "198.19.100.1" }] },
    });
    const peerCreated = await underlay.create!(peerVm);
    await s.run(["ping", "-c", "1", "-W", "3", "198.19.100.3"]);
    const neigh = JSON.parse((await s.run(["ip", "-j", "neigh", "show", "dev", "p0.100"])).stdout) as {
      dst: string;
    }[];
    expect(neigh.map((n) => n.dst)).toContain("198.19.100.3");
    await underlay.delete!(peerCreated.id, peerCreated.outs as DpuUnderlayOutputs);
    // Power the UEFI VM off again: the reboot below uses dpu-0 and the namespace DPU only (2 cores).
    await bmcClient(2).post(
      `/redfish/v1/Systems/${lab.endpoints.dpus[2]!.bmc.systemId}/Actions/ComputerSystem.Reset`,
      { ResetType: "ForceOff" },
      { action: "test reset" },
    );

    // Reboot through the BMC: the guest's state disk keeps the networkd files; networkd re-applies them.
    // ForceRestart pulls power (QMP quit): flush the guest's page cache first, as an operator would.
    await s.run(["sync"]);
    const tr = Date.now();
    await bmcClient(0).post(
      `/redfish/v1/Systems/${lab.endpoints.dpus[0]!.bmc.systemId}/Actions/ComputerSystem.Reset`,
      { ResetType: "ForceRestart" },
      { action: "test reset" },
    );
    await waitFor(
      () => lab.dpus.get("dpu-0")!.bmc.snapshot().bootProgress.lastState === "OSRunning",
      300_000,
    );
    mark("reboot through the BMC (ForceRestart to OSRunning)", tr);
    timings.push(`dpu-0 reboot (ms after QEMU start): ${JSON.stringify(vm("dpu-0").lastBootTiming())}`);
    await pool.closeAll();
    // sshd can answer before systemd-networkd has re-applied everything (the route waits for its gateway's
    // subnet): read until the persisted configuration is back, as a refresh a moment later would see it.
    const tn = Date.now();
    let read = await underlay.read!(created.id, outs);
    while (!(read.props as DpuUnderlayOutputs).observedRoutes[0]?.present && Date.now() - tn < 60_000) {
      await new Promise((r) => setTimeout(r, 500));
      read = await underlay.read!(created.id, outs);
    }
    mark("networkd re-applied the persisted underlay after sshd answered", tn);
    const after = read.props as DpuUnderlayOutputs;
    expect(after.observedInterfaces[0]?.addresses).toEqual(
      expect.arrayContaining(["198.19.1.1/24", "2001:db8:19::1/64"]),
    );
    expect(after.observedRoutes[0]?.present).toBe(true);
    expect(after.observedInterfaces[0]?.vlans[0]).toMatchObject({ name: "p0.100", id: 100, present: true });
    // The persisted configuration came back after the reboot exactly as declared: no drift.
    const d = await underlay.diff!(created.id, after, decl);
    expect(d.replaces).toEqual([]);
    const drift = diffInputs(
      after as unknown as Record<string, unknown>,
      decl as unknown as Record<string, unknown>,
      DPU_UNDERLAY_INPUT_KEYS,
      dpuUnderlayFieldRules,
    ).changed.map((c) => c.path);
    expect(drift).toEqual([]);
    expect(d.changes).toBe(false);
    const s2 = await session(0, vmFp);
    const addr = JSON.parse((await s2.run(["ip", "-j", "addr", "show", "p0.100"])).stdout) as {
      addr_info: { local: string }[];
    }[];
    expect(addr[0]?.addr_info.map((a) => a.local)).toContain("198.19.100.1");
    await s2.run(["ping", "-c", "1", "-W", "3", "198.19.1.2"]);
  });

  it("DpuWorkload runs a systemd and a podman workload in the guest: health, drift after a kill, update, delete", async () => {
    const workloads = createDpuWorkloadProvider({ connector: pool });
    const fp = lab.dpus.get("dpu-0")!.hostKeyFingerprint()!;
    const connection = {
      host: lab.endpoints.dpus[0]!.ssh.host,
      username: "root",
      privateKey: readFileSync(lab.endpoints.dpus[0]!.ssh.privateKeyFile, "utf8"),
      hostKey: fp,
    };
    const s = await session(0, fp);
    const checked = async (news: Record<string, unknown>): Promise<Record<string, unknown>> => {
      const r = await workloads.check!({}, news);
      expect(r.failures).toEqual([]);
      return r.inputs as Record<string, unknown>;
    };

    // systemd: a unit under the guest's real systemd, healthy by TCP port.
    const sysd = (version: string) =>
      checked({
        connection,
        name: "svc",
        runtime: "systemd",
        command: ["/bin/busybox", "httpd", "-f", "-p", "9001", "-h", "/usr/lib/pulumi-dpu"],
        env: { VERSION: version },
        restart: "no",
        health: { tcpPort: 9001, intervalMs: 500, timeoutMs: 2000, retries: 40 },
      });
    let t = Date.now();
    const c1 = (await workloads.create!(await sysd("v1"))) as { id: string; outs: DpuWorkloadOutputs };
    mark("DpuWorkload systemd create", t);
    expect(c1.outs).toMatchObject({ resolvedRuntime: "systemd", status: "running", lastHealth: "ok" });
    const unit = (
      await s.run(["sh", "-c", "systemctl list-units --no-legend --plain 'pulumi-dpu*' | awk '{print $1}'"])
    ).stdout;
    expect(unit).toMatch(/svc/);
    // Drift: kill the main process (Restart=no): systemd reports the unit failed, read shows it, update repairs.
    await s.run(["kill", "-9", String(c1.outs.pid)]);
    const drifted = (await workloads.read!(c1.id, c1.outs)).props as DpuWorkloadOutputs;
    expect(drifted.status).not.toBe("running");
    expect((await workloads.diff!(c1.id, drifted, await sysd("v1"))).changes).toBe(true);
    t = Date.now();
    const u1 = (await workloads.update!(c1.id, drifted, await sysd("v2"))) as { outs: DpuWorkloadOutputs };
    mark("DpuWorkload systemd update", t);
    expect(u1.outs).toMatchObject({ status: "running", lastHealth: "ok" });
    expect(u1.outs.pid).not.toBe(c1.outs.pid);
    await workloads.delete!(c1.id, u1.outs);
    expect((await s.exec(["systemctl", "is-active", "--quiet", "pulumi-dpu-svc.service"])).exitCode).not.toBe(
      0,
    );

    // podman: image imported from a tarball this test builds (busybox rootfs), published port, health by TCP.
    const rootfs =
      "mkdir -p /tmp/img/bin /tmp/img/www && cp /bin/busybox /tmp/img/bin/busybox && ln -sf busybox /tmp/img/bin/sh";
    await s.run(["sh", "-c", rootfs]);
    await s.run(["sh", "-c", "echo v1 > /tmp/img/www/index.html && tar -C /tmp/img -cf /tmp/demo-v1.tar ."]);
    await s.run(["sh", "-c", "echo v2 > /tmp/img/www/index.html && tar -C /tmp/img -cf /tmp/demo-v2.tar ."]);
    t = Date.now();
    await s.run(["podman", "import", "-q", "/tmp/demo-v1.tar", "localhost/demo:1"], { timeoutMs: 120_000 });
    await s.run(["podman", "import", "-q", "/tmp/demo-v2.tar", "localhost/demo:2"], { timeoutMs: 120_000 });
    mark("podman import of two tarball images", t);
    const pod = (tag: string) =>
      checked({
        connection,
        name: "web",
        runtime: "podman",
        image: { reference: `localhost/demo:${tag}`, pullPolicy: "never" },
        command: ["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/www"],
        ports: [{ containerPort: 8080, hostPort: 18080 }],
        restart: "no",
        health: { tcpPort: 18080, intervalMs: 500, timeoutMs: 2000, retries: 60 },
      });
    const fetchIndex = async (): Promise<string> =>
      (await s.run(["busybox", "wget", "-qO-", "http://127.0.0.1:18080/index.html"])).stdout.trim();
    t = Date.now();
    const c2 = (await workloads.create!(await pod("1"))) as { id: string; outs: DpuWorkloadOutputs };
    mark("DpuWorkload podman create", t);
    expect(c2.outs).toMatchObject({ resolvedRuntime: "podman", status: "running", lastHealth: "ok" });
    expect(await fetchIndex()).toBe("v1");
    await s.run(["podman", "kill", "pulumi-dpu-web"]);
    const podDrift = (await workloads.read!(c2.id, c2.outs)).props as DpuWorkloadOutputs;
    expect(podDrift.status).not.toBe("running");
    t = Date.now();
    const u2 = (await workloads.update!(c2.id, podDrift, await pod("2"))) as { outs: DpuWorkloadOutputs };
    mark("DpuWorkload podman update", t);
    expect(u2.outs).toMatchObject({ status: "running", lastHealth: "ok" });
    expect(await fetchIndex()).toBe("v2");
    await workloads.delete!(c2.id, u2.outs);
    expect((await s.run(["podman", "ps", "-a", "--format", "{{.Names}}"])).stdout).not.toMatch(/web/);
  });

  it("DpuHost seeds a VM DPU through a cidata medium in the BMC's second slot: the guest comes up with the seeded hostname, address and host key, pinned before first contact", async () => {
    const ep = lab.endpoints.dpus[0]!;
    const s0 = await session(0, lab.dpus.get("dpu-0")!.hostKeyFingerprint()!);
    const own = JSON.parse((await s0.run(["ip", "-j", "-4", "addr", "show", "dev", "oob_net0"])).stdout) as {
      addr_info: { local: string; prefixlen: number }[];
    }[];
    const prefix = own[0]!.addr_info.find((a) => a.local === ep.ssh.host)!.prefixlen;
    await pool.closeAll();
    const address = addressFromTop(ep.ssh.host, prefix, 10);
    const dir = await scratch("vm-identity-");
    try {
      const operator = await keyPair(dir, "operator");
      const img = lab.endpoints.images.files.find((f) => f.name === VM_ISO)!;
      const news = {
        bmc: labBmc(ep),
        image: { url: img.url, sha256: img.sha256, method: "virtualMedia", timeoutMs: 120_000 },
        ready: {
          timeoutMs: 300_000,
          ssh: { host: address, username: "root", privateKey: operator.privateKey },
        },
        identity: {
          hostname: "vm-dpu-0.fleet.lab",
          authorizedKeys: [operator.publicKey],
          management: { interface: "oob_net0", addresses: [`${address}/${prefix}`] },
          hostKey: "generate",
        },
        stage: loopbackStage(await freePort()),
      };
      const checked = await dpuHost.check!({}, news);
      expect(checked.failures ?? []).toEqual([]);
      const t = Date.now();
      const outs = (await dpuHost.create!(checked.inputs)).outs as DpuHostOutputs;
      mark("DpuHost virtual media + cidata seed: VM to os-release over SSH at the seeded address", t);
      timings.push(
        `dpu-0 seeded boot (ms after QEMU start): ${JSON.stringify(vm("dpu-0").lastBootTiming())}`,
      );
      expect(outs.identitySeed?.kind).toBe("cidata");
      const pinned = outs.identitySeed?.hostKeyFingerprint;
      expect(pinned).toMatch(/^SHA256:/);
      expect(outs.hostKeyFingerprint).toBe(pinned);
      expect(outs.osRelease.DPU_IMAGE_SHA256).toBe(img.sha256);
      // OpenSSH, trusting only the generated host key (StrictHostKeyChecking=yes): the seeded identity.
      const hostPublicKey = outs.identityHostKey?.publicKey ?? "";
      const as = (keyFile: string, cmd: string) => openssh(dir, address, keyFile, hostPublicKey, cmd);
      const r = await as(
        operator.privateFile,
        "hostname; ip -4 -o addr show dev oob_net0; cat /var/lib/cloud/data/instance-id",
      );
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      const [name, addr, iid] = r.stdout.trim().split("\n");
      expect(name).toBe("vm-dpu-0.fleet.lab");
      expect(addr).toContain(` ${address}/${prefix} `);
      expect(addr).not.toContain(` ${ep.ssh.host}/`);
      expect(iid).toMatch(/^iid-vm-dpu-0-/);
      // The lab reports the key the guest printed on its console: the pinned one.
      expect(lab.dpus.get("dpu-0")!.hostKeyFingerprint()).toBe(pinned);
      // fw_cfg carried no identity to this guest, only the installer's image record (names only: no values).
      const fwCfg = await as(
        operator.privateFile,
        "sed 's/=.*//' /sys/firmware/qemu_fw_cfg/by_name/opt/pulumi-dpu/seed/raw | sort -u",
      );
      expect(fwCfg.code).toBe(0);
      expect(fwCfg.stdout.trim().split("\n")).toEqual([
        "image_kind",
        "image_label",
        "image_sha256",
        "image_url",
      ]);
      // Nothing of the lab's factory defaults reached the seeded guest: the lab's key is not authorized.
      const labKey = await as(ep.ssh.privateKeyFile, "true");
      expect(labKey.code).not.toBe(0);
      expect(labKey.stderr).toMatch(/Permission denied/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
