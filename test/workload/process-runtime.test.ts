import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { setLogSink } from "../../provider/log";
import { closeAllPools } from "../../provider/redfish";
import { type DpuHostOutputs, dpuHost } from "../../provider/resources/dpu-host";
import { createDpuWorkloadProvider, type DpuWorkloadOutputs } from "../../provider/resources/dpu-workload";
import { createSshConnector } from "../../provider/ssh";
import type { SshSession } from "../../provider/ssh/types";
import { sha256Hex } from "../../provider/workload/artifacts";
import { type Lab, startLab } from "../../simulator";
import { inputsFor } from "../dpu-host/helpers";
import { CountingConnector, checkedBy, connectionFor, labUnavailable, rootSession } from "./helpers";

const skip = labUnavailable() !== undefined;
const pool = createSshConnector();
const counter = new CountingConnector(pool);
const provider = createDpuWorkloadProvider({ connector: counter });
let lab: Lab;
let dpu: SshSession;
const logLines: string[] = [];
let restoreSink: (() => void) | undefined;

const SECRET = "tok-9f8e7d6c5b4a-never-in-argv";
const ROOT = "/var/lib/pulumi-dpu/workloads";

/** A tiny TCP server (python3 is in the DPU's Debian userland) answering with its version. */
function serverScript(version: string): string {
  return [
    "import os, socket, sys",
    `VERSION = ${JSON.stringify(version)}`,
    "if VERSION == 'broken':",
    "    print('broken build: token is', os.environ.get('APP_TOKEN'), flush=True)",
    "    sys.exit(3)",
    "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)",
    "s.bind(('127.0.0.1', int(os.environ['PORT']))); s.listen(8)",
    "print('serving', VERSION, flush=True)",
    "while True:",
    "    c, _ = s.accept(); c.sendall(VERSION.encode() + b'\\n'); c.close()",
    "",
  ].join("\n");
}

function webInputs(version: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    connection: connectionFor(lab.endpoints),
    name: "web",
    runtime: "process",
    command: ["python3", "/opt/web/server.py"],
    artifacts: [
      { source: { content: serverScript(version) }, destination: "/opt/web/server.py", mode: "0644" },
    ],
    env: { PORT: "8081" },
    secretEnv: { APP_TOKEN: SECRET },
    health: { tcpPort: 8081, intervalMs: 200, timeoutMs: 1000, retries: 8 },
    ...extra,
  };
}

function checked(news: Record<string, unknown>): Promise<Record<string, unknown>> {
  return checkedBy(provider, news);
}

async function sh(cmd: string): Promise<string> {
  const r = await dpu.exec(["bash", "-c", cmd]);
  return r.stdout.trim();
}

describe.skipIf(skip)("DpuWorkload process runtime on the simulator", () => {
  let web: { id: string; outs: DpuWorkloadOutputs };

  beforeAll(async () => {
    restoreSink = setLogSink((_l, line) => logLines.push(line));
    lab = await startLab({ count: 1, bootTimeMs: 0 });
    dpu = await rootSession(pool, lab.endpoints);
  });
  afterAll(async () => {
    restoreSink?.();
    await pool.closeAll();
    await lab?.stop();
  });

  test("deploys: artifact uploaded, env file 0600, healthy by TCP port", async () => {
    const created = await provider.create!(await checked(webInputs("v1")));
    web = created as { id: string; outs: DpuWorkloadOutputs };
    expect(web.id).toBe(`${lab.endpoints.dpus[0]!.ssh.host}:22/web`);
    expect(web.outs.status).toBe("running");
    expect(web.outs.lastHealth).toBe("ok");
    expect(web.outs.resolvedRuntime).toBe("process");
    expect(web.outs.pid).toBeGreaterThan(1);
    expect(web.outs.artifactDigests["/opt/web/server.py"]).toBe(sha256Hex(serverScript("v1")));
    expect(await sh("exec 3<>/dev/tcp/127.0.0.1/8081; cat <&3")).toBe("v1");
    expect(await sh(`stat -c %a ${ROOT}/web/spec/env.sh`)).toBe("600");
    // The workload really got the secret through the env file.
    expect(await sh(`tr '\\0' '\\n' </proc/${web.outs.pid}/environ | grep -c '^APP_TOKEN=${SECRET}$'`)).toBe(
      "1",
    );
  });

  test("secretEnv never appears in a remote argv, a log line or an unmarked output", async () => {
    const ps = await sh("ps -eo args");
    expect(ps).toContain("supervisor.sh");
    expect(ps).not.toContain(SECRET);
    const cmdlines = await sh("cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' ' '");
    expect(cmdlines).not.toContain(SECRET);
    expect(await sh(`cat ${ROOT}/web/log/output.log`)).not.toContain(SECRET);
    expect(logLines.join("\n")).not.toContain(SECRET);
    const { secretEnv, ...unmarked } = web.outs;
    expect(secretEnv).toEqual({ APP_TOKEN: SECRET });
    expect(JSON.stringify(unmarked)).not.toContain(SECRET);
  });

  test("read is one round trip and reports no drift while healthy", async () => {
    counter.reset();
    const r = await provider.read!(web.id, web.outs);
    expect(counter.execs + counter.writes).toBe(1);
    expect(r.id).toBe(web.id);
    const d = await provider.diff!(web.id, r.props as DpuWorkloadOutputs, await checked(webInputs("v1")));
    expect(d.changes).toBe(false);
  });

  test("health by command", async () => {
    const news = await checked({
      connection: connectionFor(lab.endpoints),
      name: "cmdcheck",
      runtime: "auto",
      shell: true,
      command: ["sleep 0.5; touch /tmp/cmdcheck.ready; exec sleep 600"],
      health: { command: ["test", "-e", "/tmp/cmdcheck.ready"], intervalMs: 200, retries: 20 },
    });
    const c = (await provider.create!(news)) as { id: string; outs: DpuWorkloadOutputs };
    expect(c.outs.status).toBe("running");
    expect(c.outs.lastHealth).toBe("ok");
    expect(c.outs.resolvedRuntime).toBe("process"); // auto: no podman, no systemd in the simulator's DPU
    expect(await sh("test -e /tmp/cmdcheck.ready && echo yes")).toBe("yes");
    await provider.delete!(c.id, c.outs);
    expect(await sh(`test -e ${ROOT}/cmdcheck || echo gone`)).toBe("gone");
  });

  test("a killed child is restarted by the supervisor; a killed supervisor is drift", async () => {
    await sh(`kill -9 ${web.outs.pid}`);
    await expect
      .poll(async () => (await provider.read!(web.id, web.outs)).props?.restartCount, { timeout: 8000 })
      .toBe(1);
    const after = await provider.read!(web.id, web.outs);
    await expect
      .poll(async () => (await provider.read!(web.id, web.outs)).props?.status, { timeout: 5000 })
      .toBe("running");
    expect(after.props?.pid).not.toBe(web.outs.pid);

    // Kill the supervisor's whole session: nothing restarts it.
    await sh(`kill -9 -$(cat ${ROOT}/web/run/supervisor.pid)`);
    const r = await provider.read!(web.id, web.outs);
    expect(r.props?.status).toBe("failed");
    expect(r.inputs?.state).toBe("failed");
    expect(r.props?.logTail).toContain("serving v1");
    const news = await checked(webInputs("v1"));
    const d = await provider.diff!(web.id, r.props as DpuWorkloadOutputs, news);
    expect(d.changes).toBe(true);
    expect(d.replaces).toEqual([]);
    // `pulumi up` after the refresh: update restarts it.
    const u = await provider.update!(web.id, r.props as DpuWorkloadOutputs, news);
    expect(u.outs.status).toBe("running");
    web = { id: web.id, outs: u.outs as DpuWorkloadOutputs };
  });

  test("a changed artifact on disk is drift", async () => {
    await sh("echo tampered >> /opt/web/server.py");
    const r = await provider.read!(web.id, web.outs);
    const seen = (r.inputs?.artifacts as { sha256?: string }[] | undefined)?.[0]?.sha256;
    expect(seen).toMatch(/^[0-9a-f]{64}$/);
    expect(seen).not.toBe(sha256Hex(serverScript("v1")));
    const d = await provider.diff!(web.id, r.props as DpuWorkloadOutputs, await checked(webInputs("v1")));
    expect(d.changes).toBe(true);
    const u = await provider.update!(web.id, r.props as DpuWorkloadOutputs, await checked(webInputs("v1")));
    expect(u.outs.artifactDigests["/opt/web/server.py"]).toBe(sha256Hex(serverScript("v1")));
    web = { id: web.id, outs: u.outs as DpuWorkloadOutputs };
  });

  test("update with a new artifact restarts it in place", async () => {
    const news = await checked(webInputs("v2"));
    const d = await provider.diff!(web.id, web.outs, news);
    expect(d).toMatchObject({ changes: true, replaces: [] });
    const u = (await provider.update!(web.id, web.outs, news)) as { outs: DpuWorkloadOutputs };
    expect(u.outs.status).toBe("running");
    expect(u.outs.pid).not.toBe(web.outs.pid);
    expect(u.outs.artifactDigests["/opt/web/server.py"]).toBe(sha256Hex(serverScript("v2")));
    expect(await sh("exec 3<>/dev/tcp/127.0.0.1/8081; cat <&3")).toBe("v2");
    web = { id: web.id, outs: u.outs };
    // name and runtime changes replace.
    const rename = await provider.diff!(web.id, web.outs, await checked(webInputs("v2", { name: "web2" })));
    expect(rename.replaces).toEqual(["name"]);
  });

  test("rolls back when the new version fails its health check; the log tail is scrubbed", async () => {
    const news = await checked(
      webInputs("broken", { health: { tcpPort: 8081, intervalMs: 200, retries: 5 } }),
    );
    const err = (await provider.update!(web.id, web.outs, news).then(
      () => undefined,
      (e: unknown) => e,
    )) as Error & { properties?: DpuWorkloadOutputs; id?: string };
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toContain("rolled back");
    expect(err.message).toContain("broken build: token is [secret]");
    expect(err.message).not.toContain(SECRET);
    expect(err.id).toBe(web.id);
    expect(err.properties?.status).toBe("running");
    expect(err.properties?.artifactDigests["/opt/web/server.py"]).toBe(sha256Hex(serverScript("v2")));
    expect(await sh("sha256sum /opt/web/server.py | cut -d' ' -f1")).toBe(sha256Hex(serverScript("v2")));
    expect(await sh("exec 3<>/dev/tcp/127.0.0.1/8081; cat <&3")).toBe("v2");
    expect(logLines.join("\n")).not.toContain(SECRET);
    web = { id: web.id, outs: err.properties as DpuWorkloadOutputs };
  });

  test("a failed create is stopped and reports its log tail", async () => {
    const news = await checked(
      webInputs("broken", {
        name: "bad",
        // Its own file: /opt/web/server.py belongs to the workload `web`.
        command: ["python3", "/opt/bad/server.py"],
        artifacts: [
          { source: { content: serverScript("broken") }, destination: "/opt/bad/server.py", mode: "0644" },
        ],
        env: { PORT: "8082" },
        health: { tcpPort: 8082, intervalMs: 200, retries: 3 },
      }),
    );
    const err = (await provider.create!(news).then(
      () => undefined,
      (e: unknown) => e,
    )) as Error & { properties?: DpuWorkloadOutputs; id?: string };
    expect(err.message).toContain("stopped it");
    expect(err.properties?.status).toBe("stopped");
    expect(err.properties?.logTail).toContain("token is [secret]");
    await provider.delete!(err.id!, err.properties!);
  });

  test("delete removes the processes, the directory and the artifacts; deleting again succeeds", async () => {
    const supPid = await sh(`cat ${ROOT}/web/run/supervisor.pid`);
    await provider.delete!(web.id, web.outs);
    expect(await sh(`test -e ${ROOT}/web || echo gone`)).toBe("gone");
    expect(await sh("test -e /opt/web/server.py || echo gone")).toBe("gone");
    expect(await sh(`test -e /proc/${supPid} || echo gone`)).toBe("gone");
    expect(await sh("ps -eo args | grep -c [s]upervisor.sh || true")).toBe("0");
    await provider.delete!(web.id, web.outs);
    expect(await provider.read!(web.id, web.outs)).toEqual({});
  });

  test("reprovisioning the DPU through DpuHost makes read report the workload gone", async () => {
    const news = await checked({ ...webInputs("v1"), connection: connectionFor(lab.endpoints, 0, false) });
    const c = (await provider.create!(news)) as { id: string; outs: DpuWorkloadOutputs };
    expect(c.outs.status).toBe("running");
    // The DPU is reinstalled with another image over Redfish (virtual media, boot once, reset), as an image
    // change in the stack would do; the new OS knows nothing of the workload.
    const host = await dpuHost.create!(inputsFor(lab.endpoints, 0, "dpu-os-1.1.iso"));
    expect((host.outs as DpuHostOutputs).osRelease.IMAGE_ID).toBe("DPUOS_1_1");
    await expect
      .poll(async () => provider.read!(c.id, c.outs), { timeout: 15_000, interval: 500 })
      .toEqual({});
    await closeAllPools();
  });
});
