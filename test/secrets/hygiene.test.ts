import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hostInputs } from "../../bench/lab";
import { setLogSink } from "../../provider/log";
import { closeAllPools } from "../../provider/redfish";
import { DPU_HOST_SECRET_INPUTS, type DpuHostOutputs, dpuHost } from "../../provider/resources/dpu-host";
import {
  DPU_UNDERLAY_SECRET_INPUTS,
  type DpuUnderlayOutputs,
  dpuUnderlayProvider,
} from "../../provider/resources/dpu-underlay";
import {
  DPU_WORKLOAD_SECRET_INPUTS,
  type DpuWorkloadOutputs,
  dpuWorkloadProvider,
} from "../../provider/resources/dpu-workload";
import { sshPool } from "../../provider/ssh";
import { type Lab, startLab } from "../../simulator";
import { unavailable } from "../capabilities";

function missingPrereq(): string | undefined {
  return unavailable("secret hygiene", "lab", "strace");
}
const missing = missingPrereq();

/** The state the engine stores, with the declared secret paths removed (the engine encrypts those). */
function stateWithoutSecretPaths(id: string, props: object, secretPaths: readonly string[]): string {
  const copy = structuredClone(props) as Record<string, unknown>;
  for (const path of secretPaths) {
    const keys = path.split(".");
    let o: Record<string, unknown> | undefined = copy;
    for (const k of keys.slice(0, -1)) o = o?.[k] as Record<string, unknown> | undefined;
    if (o && typeof o === "object") delete o[keys[keys.length - 1]!];
  }
  return JSON.stringify({ id, outputs: copy });
}

// A whole fleet lifecycle (provision and reprovision a DPU; create, read, update and delete an underlay and a
// workload with secret environment values, including a failing deploy), then every secret value is searched in
// the serialized state, every log line and error message, and the argv of every process run on the DPUs
// (strace follows each DPU's sshd): 0 hits.
describe.skipIf(missing !== undefined)(`secret hygiene${missing ? ` (skipped: ${missing})` : ""}`, () => {
  let lab: Lab;
  let restore: () => void;
  const logs: string[] = [];
  const states: string[] = [];
  const errors: string[] = [];
  const previousLevel = process.env.PULUMI_DPU_LOG;
  const token1 = `tok1-${randomBytes(12).toString("hex")}`;
  const token2 = `tok2-${randomBytes(12).toString("hex")}`;
  const failToken = `tok3-${randomBytes(12).toString("hex")}`;

  beforeAll(async () => {
    process.env.PULUMI_DPU_LOG = "debug";
    restore = setLogSink((_l, line) => logs.push(line));
    lab = await startLab({ count: 2, bootTimeMs: 200, execAudit: true });
  });
  afterAll(async () => {
    restore?.();
    if (previousLevel === undefined) delete process.env.PULUMI_DPU_LOG;
    else process.env.PULUMI_DPU_LOG = previousLevel;
    await sshPool.closeAll();
    await closeAllPools();
    await lab?.stop();
  });

  it("finds no secret in state, logs, errors or remote argv", async () => {
    const ep = lab.endpoints;
    const key = readFileSync(ep.dpus[1]!.ssh.privateKeyFile, "utf8");
    const secrets = [
      ...ep.dpus.map((d) => d.bmc.password),
      key,
      ...key.split("\n").filter((l) => l.length >= 16 && !l.startsWith("-----")),
      token1,
      token2,
      failToken,
    ];
    const keep = (id: string, props: object, paths: readonly string[]) =>
      states.push(stateWithoutSecretPaths(id, props, paths));
    const attempt = async <T>(p: Promise<T>): Promise<T | undefined> =>
      p.catch((e: unknown) => {
        errors.push(e instanceof Error ? `${e.message}\n${e.stack ?? ""}` : String(e));
        const props = (e as { properties?: object }).properties;
        if (props) keep("partial", props, DPU_WORKLOAD_SECRET_INPUTS);
        return undefined;
      });

    // DpuHost on dpu-0: provision, refresh, reprovision, refresh, delete.
    const h = await dpuHost.create!(hostInputs(ep, 0, "dpu-os-1.1.iso"));
    keep(h.id, h.outs, DPU_HOST_SECRET_INPUTS);
    const hr = await dpuHost.read!(h.id, h.outs);
    keep(h.id, hr.props ?? {}, DPU_HOST_SECRET_INPUTS);
    keep(h.id, hr.inputs ?? {}, DPU_HOST_SECRET_INPUTS);
    const hu = await dpuHost.update!(h.id, h.outs as DpuHostOutputs, hostInputs(ep, 0, "dpu-os-2.0.iso"));
    keep(h.id, hu.outs ?? {}, DPU_HOST_SECRET_INPUTS);
    await dpuHost.delete!(h.id, hu.outs as DpuHostOutputs);

    // DpuUnderlay and DpuWorkload on dpu-1.
    const d = ep.dpus[1]!;
    const connection = { host: d.ssh.host, privateKey: key, hostKey: d.ssh.hostKeyFingerprint };
    const uc = await dpuUnderlayProvider.check!(
      {},
      {
        connection,
        persist: "none",
        interfaces: [{ name: "p0", mtu: 1400, addresses: ["198.19.9.1/24"] }],
      },
    );
    const u = await dpuUnderlayProvider.create!(uc.inputs);
    keep(u.id, u.outs, DPU_UNDERLAY_SECRET_INPUTS);
    const ur = await dpuUnderlayProvider.read!(u.id, u.outs);
    keep(u.id, ur.props ?? {}, DPU_UNDERLAY_SECRET_INPUTS);
    const uu = await dpuUnderlayProvider.update!(u.id, u.outs as DpuUnderlayOutputs, {
      ...uc.inputs,
      interfaces: [{ name: "p0", mtu: 1450, addresses: ["198.19.9.1/24"], vlans: [], state: "up" }],
    });
    keep(u.id, uu.outs ?? {}, DPU_UNDERLAY_SECRET_INPUTS);
    await dpuUnderlayProvider.delete!(u.id, uu.outs as DpuUnderlayOutputs);

    const wc = await dpuWorkloadProvider.check!(
      {},
      {
        connection,
        name: "agent",
        runtime: "process",
        command: ["sh", "-c", 'test -n "$TOKEN" && exec sleep 3604'],
        secretEnv: { TOKEN: token1 },
        env: { LEVEL: "debug" },
        artifacts: [{ source: { content: "config: 1\n" }, destination: "/opt/agent/config.yaml" }],
        health: { command: ["test", "-f", "/opt/agent/config.yaml"], intervalMs: 200 },
      },
    );
    const w = await dpuWorkloadProvider.create!(wc.inputs);
    keep(w.id, w.outs, DPU_WORKLOAD_SECRET_INPUTS);
    const wr = await dpuWorkloadProvider.read!(w.id, w.outs);
    keep(w.id, wr.props ?? {}, DPU_WORKLOAD_SECRET_INPUTS);
    const rotated = { ...(wc.inputs as Record<string, unknown>), secretEnv: { TOKEN: token2 } };
    const wu = await dpuWorkloadProvider.update!(w.id, w.outs as DpuWorkloadOutputs, rotated);
    keep(w.id, wu.outs ?? {}, DPU_WORKLOAD_SECRET_INPUTS);
    await dpuWorkloadProvider.delete!(w.id, wu.outs as DpuWorkloadOutputs);
    // A deploy that fails, printing its secret to its log: the error and partial state carry the log tail.
    const bad = await dpuWorkloadProvider.check!(
      {},
      {
        connection,
        name: "leaky",
        runtime: "process",
        command: ["sh", "-c", 'echo "token is $TOKEN"; exit 3'],
        secretEnv: { TOKEN: failToken },
        restart: "no",
      },
    );
    expect(bad.failures ?? []).toEqual([]);
    await attempt(dpuWorkloadProvider.create!(bad.inputs));
    expect(errors.length).toBe(1);

    const audit = lab.execAudit();
    // The audit is complete: it saw the workload's control script and the underlay's batch.
    expect(audit).toMatch(/execve\("[^"]*sh", \["sh", "-c", .*"pulumi-dpu-ctl", "apply"/);
    expect(audit).toMatch(/"pulumi-dpu-apply"/);
    expect(audit).toMatch(/sleep", "3604"/);
    const haystacks: Record<string, string> = {
      state: states.join("\n"),
      logs: logs.join("\n"),
      errors: errors.join("\n"),
      argv: audit,
    };
    const hits: string[] = [];
    for (const [where, text] of Object.entries(haystacks)) {
      for (const s of secrets) if (text.includes(s)) hits.push(`${where}: ${s.slice(0, 8)}…`);
    }
    console.log(
      `secret hygiene: ${states.length} states, ${logs.length} log lines, ${errors.length} errors, ${
        audit.split("\n").filter((l) => l.includes("execve(")).length
      } remote execs scanned for ${secrets.length} secret values: ${hits.length} hits`,
    );
    expect(hits).toEqual([]);
    // The secrets did reach their destinations (the scan would be vacuous otherwise).
    expect(states.join("").length).toBeGreaterThan(1000);
    expect(errors[0]).toContain("[secret]");
  }, 180_000);
});
