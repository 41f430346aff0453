import { afterAll, beforeAll, describe, expect, test, vi } from "vitest";
import type { DpuWorkloadOutputs } from "../../provider/resources/dpu-workload";
import { createDpuWorkloadProvider } from "../../provider/resources/dpu-workload";
import { createSshConnector } from "../../provider/ssh";
import type { SshSession } from "../../provider/ssh/types";
import { type Lab, startLab } from "../../simulator";
import { connectionFor, labUnavailable, rootSession, shOn } from "../workload/helpers";

// Issue 12 item 6: "up with TOKEN A, up with TOKEN B, the workload dies, refresh: state holds the old token in
// logTail, in plain text". The log outlived versions and redaction only knows the current values. Now each
// version starts with a fresh log (and the SDK marks logTail secret). Also: secret artifacts default to 0600.

const skip = labUnavailable() !== undefined;
const ROOT = "/var/lib/pulumi-dpu/workloads";
const TOKEN_A = "rot-A-7f3e1c9b2d4a-old-token";
const TOKEN_B = "rot-B-0a9c8e7d6f5b-new-token";
const pool = createSshConnector();
const provider = createDpuWorkloadProvider({ connector: pool });
let lab: Lab;
let dpu: SshSession;

function sh(cmd: string): Promise<string> {
  return shOn(dpu, cmd);
}

async function checked(news: Record<string, unknown>): Promise<Record<string, unknown>> {
  const r = await provider.check!(
    {},
    { connection: connectionFor(lab.endpoints), runtime: "process", ...news },
  );
  expect(r.failures).toEqual([]);
  return r.inputs as Record<string, unknown>;
}

/**
 * A provider as a later `pulumi refresh` gets it: a fresh process, whose redaction knows only the secrets of the
 * state it is given (fresh module instances stand in for the new process).
 */
async function freshProvider(): Promise<{
  provider: ReturnType<typeof createDpuWorkloadProvider>;
  close: () => Promise<void>;
}> {
  vi.resetModules();
  const ssh = await import("../../provider/ssh/index.js");
  const res = await import("../../provider/resources/dpu-workload.js");
  const connector = ssh.createSshConnector();
  return { provider: res.createDpuWorkloadProvider({ connector }), close: () => connector.closeAll() };
}

describe.skipIf(skip)("secrets on a lab DPU", () => {
  beforeAll(async () => {
    lab = await startLab({ count: 1, bootTimeMs: 0 });
    dpu = await rootSession(pool, lab.endpoints);
  }, 120_000);
  afterAll(async () => {
    await pool.closeAll();
    await lab?.stop();
  });

  test("after a rotation, a refresh never brings the old token into state", async () => {
    // `pulumi up` with TOKEN A: the workload prints its token (a careless workload does).
    const v1 = await checked({
      name: "rot",
      shell: true,
      command: ['echo "v1 token=$TOKEN"; exec sleep 600'],
      secretEnv: { TOKEN: TOKEN_A },
      restart: "no",
    });
    const c = (await provider.create!(v1)) as { id: string; outs: DpuWorkloadOutputs };
    expect(c.outs.status).toBe("running");
    await expect.poll(() => sh(`grep -c 'v1 token' ${ROOT}/rot/log/output.log || true`)).toBe("1");

    // `pulumi up` with TOKEN B: this version prints its token and dies a little later.
    const v2 = await checked({
      name: "rot",
      shell: true,
      command: ['echo "v2 token=$TOKEN"; sleep 3; exit 1'],
      secretEnv: { TOKEN: TOKEN_B },
      restart: "no",
    });
    const u = (await provider.update!(c.id, c.outs, v2)) as { outs: DpuWorkloadOutputs };
    expect(u.outs.status).toBe("running");

    // `pulumi refresh`, in a new process that knows only the state's secret (B).
    const fresh = await freshProvider();
    try {
      await expect
        .poll(async () => (await fresh.provider.read!(c.id, u.outs)).props?.status, { timeout: 15_000 })
        .toBe("failed");
      const r = await fresh.provider.read!(c.id, u.outs);
      const tail = r.props?.logTail as string;
      expect(tail).toContain("v2 token=[secret]");
      expect(tail).not.toContain(TOKEN_A);
      expect(tail).not.toContain("v1 token");
      expect(JSON.stringify(r)).not.toContain(TOKEN_A);
    } finally {
      await fresh.close();
    }
    // Nothing of the old version is left on the DPU's disk either.
    expect(await sh(`cat ${ROOT}/rot/log/* 2>/dev/null | grep -c '${TOKEN_A}' || true`)).toBe("0");
    await provider.delete!(c.id, u.outs);
  }, 60_000);

  test("a restart of the same version keeps its log", async () => {
    const inputs = await checked({
      name: "same",
      shell: true,
      command: ['echo "started once more"; exec sleep 600'],
      restart: "always",
    });
    const c = (await provider.create!(inputs)) as { id: string; outs: DpuWorkloadOutputs };
    await sh(`kill -KILL $(cat ${ROOT}/same/run/child.pid)`);
    await expect
      .poll(() => sh(`grep -c 'started once more' ${ROOT}/same/log/output.log || true`), { timeout: 10_000 })
      .toBe("2");
    await provider.delete!(c.id, c.outs);
  }, 60_000);

  test("the content of a secret artifact printed by a failing workload is redacted from the error", async () => {
    const KEY_CONTENT = "artifact-secret-4b5c6d7e8f9a";
    const inputs = await checked({
      name: "leaky",
      shell: true,
      command: ["echo starting with key $(cat /etc/leaky-test/api.key); exit 3"],
      artifacts: [{ source: { content: KEY_CONTENT }, destination: "/etc/leaky-test/api.key", secret: true }],
      restart: "no",
    });
    const err = (await provider.create!(inputs).then(
      () => undefined,
      (e: unknown) => e,
    )) as Error & { id?: string; properties?: DpuWorkloadOutputs };
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toContain("starting with key [secret]");
    expect(err.message).not.toContain(KEY_CONTENT);
    expect(err.properties?.logTail).not.toContain(KEY_CONTENT);
    if (err.id && err.properties) await provider.delete!(err.id, err.properties);
  }, 60_000);

  test("secret artifacts are written 0600 by default; others 0644; an explicit mode wins", async () => {
    const inputs = await checked({
      name: "keys",
      command: ["sleep", "600"],
      artifacts: [
        { source: { content: "api-key-0c1d2e3f" }, destination: "/etc/keys-test/api.key", secret: true },
        { source: { content: "level=info\n" }, destination: "/etc/keys-test/agent.conf" },
        { source: { content: "cert" }, destination: "/etc/keys-test/cert.pem", secret: true, mode: "0640" },
      ],
    });
    const c = (await provider.create!(inputs)) as { id: string; outs: DpuWorkloadOutputs };
    expect(c.outs.status).toBe("running");
    expect(
      await sh("stat -c '%a %n' /etc/keys-test/api.key /etc/keys-test/agent.conf /etc/keys-test/cert.pem"),
    ).toBe(
      ["600 /etc/keys-test/api.key", "644 /etc/keys-test/agent.conf", "640 /etc/keys-test/cert.pem"].join(
        "\n",
      ),
    );
    await provider.delete!(c.id, c.outs);
  }, 60_000);
});
