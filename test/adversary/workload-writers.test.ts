import { spawnSync } from "node:child_process";
import { hostname } from "node:os";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { setLogSink } from "../../provider/log";
import { createDpuWorkloadProvider, type DpuWorkloadOutputs } from "../../provider/resources/dpu-workload";
import { createSshConnector } from "../../provider/ssh";
import type { SshSession, SshTarget } from "../../provider/ssh/types";
import { sha256Hex } from "../../provider/workload/artifacts";
import { type Lab, startLab } from "../../simulator";
import { checkedBy, connectionFor, labUnavailable, rootSession, settle, shOn } from "../workload/helpers";

// Issue 12 items 2, 8 and 11 (workload part): writers racing on one workload, stale locks of killed providers, an
// SSH drop in the middle of an update, a switch cut short, and what a failed update says is running.

const skip = labUnavailable() !== undefined;
const ROOT = "/var/lib/pulumi-dpu/workloads";
const pools = [createSshConnector(), createSshConnector()];
const alice = createDpuWorkloadProvider({ connector: pools[0]! });
const bob = createDpuWorkloadProvider({ connector: pools[1]! });
const logLines: string[] = [];
let restoreSink: (() => void) | undefined;
let lab: Lab;
let dpu: SshSession;

function script(version: string, port: number): string {
  return [
    "import os, socket, sys",
    `V = ${JSON.stringify(version)}`,
    "if V.startswith('broken'):",
    "    print('broken build', flush=True); sys.exit(3)",
    "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)",
    `s.bind(('127.0.0.1', ${port})); s.listen(8)`,
    "while True:",
    "    c, _ = s.accept(); c.sendall(V.encode() + b'\\n'); c.close()",
    "",
  ].join("\n");
}

function inputs(name: string, port: number, version: string): Record<string, unknown> {
  return {
    connection: connectionFor(lab.endpoints),
    name,
    runtime: "process",
    command: ["python3", `/opt/${name}/server.py`],
    artifacts: [
      { source: { content: script(version, port) }, destination: `/opt/${name}/server.py` },
      { source: { content: `version=${version}\n` }, destination: `/opt/${name}/version.conf` },
    ],
    health: { tcpPort: port, intervalMs: 200, timeoutMs: 1000, retries: 5 },
  };
}

function checked(news: Record<string, unknown>): Promise<Record<string, unknown>> {
  return checkedBy(alice, news);
}

function sh(cmd: string): Promise<string> {
  return shOn(dpu, cmd);
}

async function served(port: number): Promise<string> {
  // python3: the busybox DPU has no bash for /dev/tcp.
  return sh(
    `python3 -c 'import socket, sys; print(socket.create_connection(("127.0.0.1", int(sys.argv[1]))).recv(64).decode().strip())' ${port}`,
  );
}

/** Supervisors of workload `name` on the DPU (one session each; their short-lived forks share it). */
async function supervisors(name: string): Promise<number> {
  return Number(
    await sh(
      `ps -eo sid=,args= | grep '[s]upervisor.sh ${ROOT}/${name}$' | awk '{print $1}' | sort -u | wc -l`,
    ),
  );
}

describe.skipIf(skip)("DpuWorkload under concurrent writers and dropped connections", () => {
  beforeAll(async () => {
    restoreSink = setLogSink((_l, line) => logLines.push(line));
    lab = await startLab({ count: 1, bootTimeMs: 0 });
    dpu = await rootSession(pools[0]!, lab.endpoints);
  });
  afterAll(async () => {
    restoreSink?.();
    for (const p of pools) await p.closeAll();
    await lab?.stop();
  });

  test("two providers updating one workload at once: one wins, the other names the holder, nothing breaks", async () => {
    const created = (await alice.create!(await checked(inputs("race", 8091, "v1")))) as {
      id: string;
      outs: DpuWorkloadOutputs;
    };
    expect(created.outs.status).toBe("running");
    const [a, b] = await Promise.all([
      settle(alice.update!(created.id, created.outs, await checked(inputs("race", 8091, "v2")))),
      settle(bob.update!(created.id, created.outs, await checked(inputs("race", 8091, "v3")))),
    ]);
    const failed = [a, b].filter((r): r is Error => r instanceof Error);
    const won = [a, b].filter((r) => !(r instanceof Error)) as { outs: DpuWorkloadOutputs }[];
    expect(failed.map((e) => e.message)).toHaveLength(1);
    expect(won).toHaveLength(1);
    const msg = failed[0]!.message;
    expect(msg).toMatch(
      /^update DpuWorkload race \(.*\/race\): another apply of this workload is in progress/,
    );
    expect(msg).toContain(`lock held by host=${hostname()} pid=${process.pid}`);
    expect(msg).toContain("action=update");
    expect(msg).toContain("nothing was changed");
    // The winner runs, alone, with its own version everywhere; read() reports it.
    const winner = won[0]!.outs;
    const version = winner.artifacts[1]!.source as { content: string };
    const v = /version=(v\d)/.exec(version.content)![1]!;
    expect(await served(8091)).toBe(v);
    expect(await sh("cat /opt/race/version.conf")).toBe(`version=${v}`);
    expect(await supervisors("race")).toBe(1);
    // The switch ignores SIGHUP/SIGPIPE while it runs (a dropped connection cannot cut it); the supervisor, and
    // so the workload it starts, does not inherit that.
    const sigIgn = await sh(`grep SigIgn /proc/$(cat ${ROOT}/race/run/supervisor.pid)/status | cut -f2`);
    expect(BigInt(`0x${sigIgn}`) & (1n << 12n), `SigIgn ${sigIgn}`).toBe(0n);
    const r = await alice.read!(created.id, winner);
    expect(r.props?.status).toBe("running");
    expect(r.props?.artifactDigests).toEqual({
      "/opt/race/server.py": sha256Hex(script(v, 8091)),
      "/opt/race/version.conf": sha256Hex(`version=${v}\n`),
    });
    // The lock was released: the loser can apply now.
    const again = await bob.update!(created.id, winner, await checked(inputs("race", 8091, "v4")));
    expect(again.outs?.status).toBe("running");
    expect(await served(8091)).toBe("v4");
    expect(await supervisors("race")).toBe(1);
    expect(await sh(`ls -A ${ROOT}/.locks`)).toBe("");
    await alice.delete!(created.id, again.outs as DpuWorkloadOutputs);
    expect(await supervisors("race")).toBe(0);
  });

  test("a long apply renews its lease: a writer arriving after the lease length is still refused", async () => {
    const slow = createDpuWorkloadProvider({ connector: pools[0]!, lockLeaseSeconds: 3 });
    const other = createDpuWorkloadProvider({ connector: pools[1]!, lockLeaseSeconds: 3 });
    // Healthy only after ~6 s: the apply holds the lock twice as long as its lease.
    const news = await checked({
      ...inputs("lease", 8096, "v1"),
      health: { tcpPort: 8096, intervalMs: 500, timeoutMs: 1000, retries: 3, startPeriodMs: 8000 },
      command: ["sh", "-c", "sleep 6; exec python3 /opt/lease/server.py"],
    });
    const first = settle(slow.create!(news));
    await new Promise((r) => setTimeout(r, 4500));
    const second = await settle(other.create!(news));
    expect((second as Error).message).toContain(`lock held by host=${hostname()} pid=${process.pid}`);
    const c = (await first) as { id: string; outs: DpuWorkloadOutputs };
    expect(c.outs.status).toBe("running");
    expect(await supervisors("lease")).toBe(1);
    await slow.delete!(c.id, c.outs);
  });

  test("a lock left by a killed provider is taken over (dead pid here, or an expired lease elsewhere)", async () => {
    const news = await checked(inputs("stale", 8092, "v1"));
    // A provider process of this machine that died holding the lock (lease far in the future).
    const dead = spawnSync("sh", ["-c", "echo $$"]).stdout.toString().trim();
    const lockDir = `${ROOT}/.locks/stale.lock`;
    const holder = (who: string, expires: string) =>
      `mkdir -p ${lockDir} && printf 'token=dead\\nexpires=%s\\nsince=1\\nwho=%s\\n' ${expires} '${who}' >${lockDir}/holder`;
    await sh(holder(`host=${hostname()} pid=${dead} stack=p/s action=update`, "$(($(date +%s) + 3600))"));
    const c = (await alice.create!(news)) as { id: string; outs: DpuWorkloadOutputs };
    expect(c.outs.status).toBe("running");
    expect(logLines.join("\n")).toContain("no longer runs");
    // Another machine's provider, lease still running: refused, naming it.
    await sh(holder("host=ci-runner-7 pid=4242 stack=prod/edge action=update", "$(($(date +%s) + 3600))"));
    const busy = await settle(alice.update!(c.id, c.outs, await checked(inputs("stale", 8092, "v2"))));
    expect(busy).toBeInstanceOf(Error);
    expect((busy as Error).message).toContain("lock held by host=ci-runner-7 pid=4242 stack=prod/edge");
    expect(await served(8092)).toBe("v1");
    // The same holder once its lease expired: taken over, the update converges.
    await sh(holder("host=ci-runner-7 pid=4242 stack=prod/edge action=update", "$(($(date +%s) - 1))"));
    const u = await alice.update!(c.id, c.outs, await checked(inputs("stale", 8092, "v2")));
    expect(u.outs?.status).toBe("running");
    expect(await served(8092)).toBe("v2");
    // delete takes the lock too.
    await sh(holder("host=ci-runner-7 pid=4242 stack=prod/edge action=update", "$(($(date +%s) + 3600))"));
    const del = await settle(alice.delete!(c.id, u.outs as DpuWorkloadOutputs));
    expect((del as Error).message).toMatch(/^delete DpuWorkload stale .*lock held by host=ci-runner-7/);
    expect(await served(8092)).toBe("v2");
    await sh(`rm -rf ${lockDir}`);
    await alice.delete!(c.id, u.outs as DpuWorkloadOutputs);
  });

  test("an SSH drop while staging leaves the running version whole; leftovers go on the next run", async () => {
    const c = (await alice.create!(await checked(inputs("drop", 8093, "v1")))) as {
      id: string;
      outs: DpuWorkloadOutputs;
    };
    // A connector whose connection "drops" after the first artifact of the update was uploaded: the second
    // upload leaves a partial temporary file, and nothing else reaches the DPU (not even the unlock).
    const inner = createSshConnector();
    let writes = 0;
    let dropped = false;
    const flaky = createDpuWorkloadProvider({
      connector: {
        async session(t: SshTarget) {
          const s = await inner.session(t);
          return {
            label: s.label,
            hostKeyFingerprint: s.hostKeyFingerprint,
            exec: (argv, o) => (dropped ? Promise.reject(new Error("connection lost")) : s.exec(argv, o)),
            run: (argv, o) => (dropped ? Promise.reject(new Error("connection lost")) : s.run(argv, o)),
            async writeFileAtomic(path, data, mode) {
              if (++writes === 2) {
                const dir = path.slice(0, path.lastIndexOf("/"));
                const base = path.slice(path.lastIndexOf("/") + 1);
                await s.exec([
                  "sh",
                  "-c",
                  `head -c 3000000 /dev/zero >"$1/.$2.tmp-0badc0ffee00"`,
                  "x",
                  dir,
                  base,
                ]);
                dropped = true;
                throw new Error("the SSH connection closed while writing over SFTP");
              }
              return s.writeFileAtomic(path, data, mode);
            },
          } satisfies SshSession;
        },
        invalidate: (t) => inner.invalidate(t),
        closeAll: () => inner.closeAll(),
      },
    });
    const err = await settle(flaky.update!(c.id, c.outs, await checked(inputs("drop", 8093, "v2"))));
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain(
      "artifacts[1].destination /opt/drop/version.conf: upload failed",
    );
    await inner.closeAll();
    // Nothing switched: the old process, the old spec and both old artifacts.
    expect(await served(8093)).toBe("v1");
    expect(await sh("cat /opt/drop/version.conf")).toBe("version=v1");
    expect(await sh(`sha256sum /opt/drop/server.py | cut -c1-64`)).toBe(sha256Hex(script("v1", 8093)));
    expect(await sh(`grep -c server.py ${ROOT}/drop/spec/argv`)).toBe("1");
    const leftovers = `ls -A /opt/drop | grep -v -x -e server.py -e version.conf || true`;
    expect(await sh(leftovers)).not.toBe("");
    // read() still reports the workload, running v1.
    const r = await alice.read!(c.id, c.outs);
    expect(r.props?.status).toBe("running");
    expect(r.props?.artifactDigests?.["/opt/drop/version.conf"]).toBe(sha256Hex("version=v1\n"));
    // The next run cleans the leftovers (the 3 MB temporary file, the staged upload) and converges.
    // The dropped apply could not release its lock. The lock names this process, which knows that apply is over:
    // the re-run takes it over at once (another machine would wait for the lease, see the test above).
    logLines.length = 0;
    const u = await alice.update!(c.id, c.outs, await checked(inputs("drop", 8093, "v2")));
    expect(u.outs?.status).toBe("running");
    expect(await served(8093)).toBe("v2");
    expect(await sh(leftovers)).toBe("");
    expect(await sh(`ls -A ${ROOT}/drop | grep -c stage- || true`)).toBe("0");
    expect(logLines.join("\n")).toContain("the lock is held by an apply that no longer runs");
    await alice.delete!(c.id, u.outs as DpuWorkloadOutputs);
  });

  test("a version switch cut short is undone by the next run; read() reports the workload meanwhile", async () => {
    const c = (await alice.create!(await checked(inputs("cut", 8094, "v1")))) as {
      id: string;
      outs: DpuWorkloadOutputs;
    };
    const up = (await alice.update!(c.id, c.outs, await checked(inputs("cut", 8094, "v2")))) as {
      outs: DpuWorkloadOutputs;
    };
    // Reproduce the state of a switch killed half-way to v3: the journal written, one artifact renamed into
    // place, the spec moved aside (what the DPU holds when the connection or the provider dies at that moment).
    const W = `${ROOT}/cut`;
    await sh(
      [
        `printf '1 %s /opt/cut/version.conf\\n' "$(printf 'version=v3\\n' | sha256sum | cut -c1-64)" >${W}/switching`,
        "printf 'version=v3\\n' >/opt/cut/version.conf",
        `mv ${W}/spec ${W}/spec.old`,
      ].join(" && "),
    );
    const r = await alice.read!(c.id, up.outs);
    expect(r).not.toEqual({});
    expect(r.props?.status).toBe("running");
    // The next apply (a refresh + up, or a retried up) undoes the half switch, then deploys.
    const u = await alice.update!(c.id, up.outs, await checked(inputs("cut", 8094, "v4")));
    expect(u.outs?.status).toBe("running");
    expect(await served(8094)).toBe("v4");
    expect(await sh("cat /opt/cut/version.conf")).toBe("version=v4");
    expect(await sh(`test -e ${W}/switching || test -e ${W}/spec.old || echo clean`)).toBe("clean");
    expect(logLines.join("\n")).toContain("undid a version switch cut short");
    expect(await supervisors("cut")).toBe(1);
    await alice.delete!(c.id, u.outs as DpuWorkloadOutputs);
  });

  test("a failed update says which version runs after the rollback, or that none does", async () => {
    const c = (await alice.create!(await checked(inputs("rb", 8095, "v1")))) as {
      id: string;
      outs: DpuWorkloadOutputs;
    };
    const e1 = await settle(alice.update!(c.id, c.outs, await checked(inputs("rb", 8095, "broken1"))));
    expect((e1 as Error).message).toMatch(/rolled back: the previous version runs again \(pid \d+\)/);
    expect((e1 as Error).message).not.toContain("undefined");
    expect(await served(8095)).toBe("v1");
    // The DPU lost the workload behind Pulumi's back (no previous version there any more).
    await sh(`kill -9 -$(cat ${ROOT}/rb/run/supervisor.pid); rm -rf ${ROOT}/rb`);
    const e2 = await settle(alice.update!(c.id, c.outs, await checked(inputs("rb", 8095, "broken2"))));
    expect((e2 as Error).message).toContain(
      "the DPU kept no previous version to roll back to, so the new version was stopped and nothing of this workload runs now",
    );
    expect((e2 as Error).message).not.toContain("undefined");
    expect(await supervisors("rb")).toBe(0);
    await alice.delete!(c.id, c.outs);
  });
});
