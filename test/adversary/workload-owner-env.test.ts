import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { setLogSink } from "../../provider/log";
import { createDpuWorkloadProvider, type DpuWorkloadOutputs } from "../../provider/resources/dpu-workload";
import { createSshConnector } from "../../provider/ssh";
import type { SshConnector, SshSession } from "../../provider/ssh/types";
import { CTL_SH } from "../../provider/workload/ctl-script";
import { SUPERVISOR_SH } from "../../provider/workload/supervisor-script";
import { type Lab, startLab } from "../../simulator";
import { checkedBy, connectionFor, labUnavailable, rootSession, settle, shOn } from "../workload/helpers";

// Issue 12 review of DpuWorkload: a second stack taking over a workload of the same name, user env names
// clobbering the supervisor's variables (dash and busybox DPUs), URL credentials in errors, un-normalised
// artifact destinations, a removed artifact still reported with its digest, and a partial without the engine's
// provider key.

const skip = labUnavailable() !== undefined;
const ROOT = "/var/lib/pulumi-dpu/workloads";
const pool = createSshConnector();
const logLines: string[] = [];
let restoreSink: (() => void) | undefined;
let lab: Lab;
const dpus: SshSession[] = [];
let http: Server;
let httpPort = 0;

const provider = createDpuWorkloadProvider({ connector: pool });

function checked(news: Record<string, unknown>): Promise<Record<string, unknown>> {
  return checkedBy(provider, news);
}

function sh(cmd: string, i = 0): Promise<string> {
  return shOn(dpus[i]!, cmd);
}

/** Every variable name the workload scripts assign or read. */
function scriptNames(): string[] {
  const names = new Set<string>();
  for (const text of [SUPERVISOR_SH, CTL_SH]) {
    for (const m of text.matchAll(/\$\{?([A-Za-z_][A-Za-z0-9_]*)/g)) names.add(m[1]!);
    for (const m of text.matchAll(/(?:^|[\s;(])([A-Za-z_][A-Za-z0-9_]*)=/gm)) names.add(m[1]!);
  }
  return [...names];
}

describe.skipIf(skip)("DpuWorkload ownership, env isolation and error hygiene", () => {
  beforeAll(async () => {
    restoreSink = setLogSink((_l, line) => logLines.push(line));
    lab = await startLab({ count: 2, bootTimeMs: 0, shell: ["dash", "busybox"] });
    for (const i of [0, 1]) {
      dpus.push(await rootSession(pool, lab.endpoints, i));
    }
    http = createServer((_req, res) => {
      res.statusCode = 404;
      res.end("no");
    });
    await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
    httpPort = (http.address() as AddressInfo).port;
  });
  afterAll(async () => {
    restoreSink?.();
    http?.close();
    await pool.closeAll();
    await lab?.stop();
  });

  function twin(owner: string, seconds: string): Record<string, unknown> {
    return {
      connection: connectionFor(lab.endpoints, 0),
      name: "twin",
      runtime: "process",
      owner,
      command: ["sleep", seconds],
      artifacts: [{ source: { content: `v${seconds}\n` }, destination: "/opt/twin/f" }],
    };
  }

  test("a second stack's create of the same name is refused; delete leaves another owner's workload alone; read reports what runs", async () => {
    const a = (await provider.create!(await checked(twin("p/a/twin", "2001")))) as {
      id: string;
      outs: DpuWorkloadOutputs;
    };
    expect(a.outs.status).toBe("running");
    const b = await settle(provider.create!(await checked(twin("p/b/twin", "2002"))));
    expect(b).toBeInstanceOf(Error);
    expect((b as Error).message).toMatch(/^create DpuWorkload twin \(.*\/twin\): .*owned by p\/a\/twin/);
    expect((b as Error).message).toContain("Delete it, choose another name, or import it");
    expect(await sh("pgrep -f '[s]leep 2001' | wc -l")).not.toBe("0");
    expect(await sh("pgrep -f '[s]leep 2002' | wc -l")).toBe("0");
    // A retried create by the same owner resumes.
    const again = (await provider.create!(await checked(twin("p/a/twin", "2001")))) as { id: string };
    expect(again.id).toBe(a.id);
    // The spec changed behind Pulumi's back: read() shows the recorded command and owner.
    await sh(
      `printf 'sleep\\n2003\\n' >${ROOT}/twin/spec/argv; sed -i 's#^owner=.*#owner=p/c/twin#' ${ROOT}/twin/spec/meta`,
    );
    const r = await provider.read!(a.id, a.outs);
    expect(r.props?.command).toEqual(["sleep", "2003"]);
    expect(r.props?.owner).toBe("p/c/twin");
    // Stack A's delete does not remove a workload now owned by someone else.
    await provider.delete!(a.id, a.outs);
    expect(await sh(`test -d ${ROOT}/twin/spec && echo kept`)).toBe("kept");
    expect(logLines.join("\n")).toContain("owned by p/c/twin");
    // Its owner removes it.
    await provider.delete!(a.id, { ...a.outs, owner: "p/c/twin" } as DpuWorkloadOutputs);
    expect(await sh(`test -e ${ROOT}/twin && echo left || echo gone`)).toBe("gone");
  });

  test("a workload deployed without an owner is adopted: an update records the owner, then other stacks are refused", async () => {
    const { owner: _none, ...old } = twin("x", "2300");
    const c = (await provider.create!(await checked({ ...old, name: "legacy", artifacts: [] }))) as {
      id: string;
      outs: DpuWorkloadOutputs;
    };
    expect(await sh(`grep -c '^owner=' ${ROOT}/legacy/spec/meta || true`)).toBe("0");
    const pid = await sh(`cat ${ROOT}/legacy/run/child.pid`);
    // The SDK now sends an owner: the update records it without restarting the workload.
    const news = await checked({ ...old, name: "legacy", artifacts: [], owner: "p/a/legacy" });
    const u = await provider.update!(c.id, c.outs, news);
    expect(await sh(`grep '^owner=' ${ROOT}/legacy/spec/meta`)).toBe("owner=p/a/legacy");
    expect(await sh(`cat ${ROOT}/legacy/run/child.pid`)).toBe(pid);
    const b = await settle(provider.create!({ ...news, owner: "p/b/legacy" }));
    expect((b as Error).message).toContain("owned by p/a/legacy");
    await provider.delete!(c.id, u.outs as DpuWorkloadOutputs);
    expect(await sh(`test -e ${ROOT}/legacy && echo left || echo gone`)).toBe("gone");
  });

  const hostile: Record<string, string> = {
    WORKDIR: "zz",
    W: "zz",
    IFS: "/",
    PATH: "zz",
    HOME: "/tmp/zz",
    ENV: "/nonexistent/env",
    BASH_ENV: "/nonexistent/bash_env",
    LD_PRELOAD: "",
    PS4: "zz ",
    OPTIND: "7",
  };
  for (const name of scriptNames()) {
    if (!(name in hostile) && name !== "S" && /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && !/^[0-9]/.test(name)) {
      hostile[name] = "zz";
    }
  }

  for (const [i, shell] of [
    [0, "dash"],
    [1, "busybox"],
  ] as const) {
    test(`${shell}: env and secretEnv names reach only the child, never the supervisor`, async () => {
      const out = `/tmp/envdump-${shell}.json`;
      const news = await checked({
        connection: connectionFor(lab.endpoints, i),
        name: "envnames",
        runtime: "process",
        command: [
          "python3",
          "-c",
          `import os, json, time; open(${JSON.stringify(out)}, "w").write(json.dumps(dict(os.environ))); time.sleep(600)`,
        ],
        env: hostile,
        secretEnv: { S: "hello-secret-value" },
      });
      const c = await settle(provider.create!(news));
      expect(c instanceof Error ? c.message : "ok").toBe("ok");
      const created = c as { id: string; outs: DpuWorkloadOutputs };
      expect(created.outs.status).toBe("running");
      const seen = JSON.parse(await sh(`cat ${out}`, i)) as Record<string, string>;
      for (const [k, v] of Object.entries(hostile)) expect(seen[k], k).toBe(v);
      expect(seen.S).toBe("hello-secret-value");
      // The supervisor still restarts the child (its own variables intact).
      await sh(`rm -f ${out}; kill $(cat ${ROOT}/envnames/run/child.pid)`, i);
      await new Promise((r) => setTimeout(r, 3500));
      expect(await sh(`test -s ${out} && echo again`, i)).toBe("again");
      await provider.delete!(created.id, created.outs);
      expect(await sh(`pgrep -f '[s]upervisor.sh ${ROOT}/envnames' | wc -l`, i)).toBe("0");
    });
  }

  test("a non-numeric OPTIND is refused by check() with a reason (dash cannot hold it)", async () => {
    const r = await provider.check!({}, { ...twin("p/a/o", "1"), name: "optind", env: { OPTIND: "zz" } });
    expect((r.failures ?? []).map((f) => f.reason).join("\n")).toContain("OPTIND must be a decimal number");
  });

  test("URL credentials and signed-URL tokens never reach an error", async () => {
    const news = await checked({
      ...twin("p/a/url", "1"),
      name: "urlerr",
      artifacts: [
        {
          source: { url: `http://u:p4ssw0rd@127.0.0.1:${httpPort}/nope?sig=SigSecret88` },
          destination: "/opt/urlerr/f",
        },
      ],
    });
    const e = await settle(provider.create!(news));
    expect(e).toBeInstanceOf(Error);
    const msg = (e as Error).message;
    expect(msg).toMatch(/^create DpuWorkload urlerr/);
    expect(msg).toContain("404");
    expect(msg).not.toContain("SigSecret88");
    expect(msg).not.toContain("p4ssw0rd");
    expect(await sh(`test -e ${ROOT}/urlerr && echo left || echo none`)).toBe("none");
  });

  test("artifact destinations must be in normal form (trailing slash, //, /./ refused by check)", async () => {
    for (const d of ["/opt/d/", "/opt//d", "/opt/./d", "/opt/x/../d"]) {
      const r = await provider.check!(
        {},
        {
          ...twin("p/a/d", "1"),
          name: "dup",
          artifacts: [
            { source: { content: "a" }, destination: "/opt/d" },
            { source: { content: "b" }, destination: d },
          ],
        },
      );
      expect((r.failures ?? []).length, d).toBeGreaterThan(0);
    }
  });

  test("read() after the workload directory and an artifact were removed by hand reports the artifact missing", async () => {
    const c = (await provider.create!(
      await checked({
        ...twin("p/a/gone", "2100"),
        name: "gone",
        artifacts: [{ source: { content: "g\n" }, destination: "/opt/gone/f" }],
      }),
    )) as {
      id: string;
      outs: DpuWorkloadOutputs;
    };
    // By hand: the artifact and the spec's list of artifacts are gone (what remains of the workload directory).
    await sh(`rm -f /opt/gone/f ${ROOT}/gone/spec/artifacts ${ROOT}/gone/run/sha.cache`);
    const r = await provider.read!(c.id, c.outs);
    expect(r.props?.artifactDigests).toEqual({ "/opt/gone/f": "missing" });
    expect((r.props?.artifacts as { sha256?: string }[] | undefined)?.[0]?.sha256).toBe("missing");
    // The whole directory removed: the workload is gone.
    await sh(`pkill -f '[s]upervisor.sh ${ROOT}/gone'; pkill -f '[s]leep 2100'; rm -rf ${ROOT}/gone`);
    expect(await provider.read!(c.id, c.outs)).toEqual({});
    await provider.delete!(c.id, c.outs);
  });

  test("a create whose health cannot be observed returns a partial the engine can update (provider key kept)", async () => {
    let cut = false;
    const flaky: SshConnector = {
      async session(t) {
        const s = await pool.session(t);
        return {
          ...s,
          label: s.label,
          hostKeyFingerprint: s.hostKeyFingerprint,
          exec: (argv, o) =>
            cut && argv.includes("status") ? Promise.reject(new Error("connection lost")) : s.exec(argv, o),
          run: (argv, o) =>
            cut && argv.includes("status") ? Promise.reject(new Error("connection lost")) : s.run(argv, o),
          writeFileAtomic: (p, d, m) => s.writeFileAtomic(p, d, m),
        } as SshSession;
      },
      invalidate: () => {},
      closeAll: () => Promise.resolve(),
    };
    const p = createDpuWorkloadProvider({ connector: flaky });
    const news = await checked({ ...twin("p/a/part", "2200"), name: "part", artifacts: [] });
    cut = true;
    const e = (await settle(p.create!({ ...news, __provider: "serialized-provider" }))) as Error & {
      id?: string;
      properties?: Record<string, unknown>;
    };
    cut = false;
    expect(e.message).toContain("health could not be observed");
    expect(e.id).toMatch(/\/part$/);
    expect(e.properties?.__provider).toBe("serialized-provider");
    const u = await p.update!(e.id!, e.properties as unknown as DpuWorkloadOutputs, news);
    expect(u.outs?.status).toBe("running");
    await p.delete!(e.id!, u.outs as DpuWorkloadOutputs);
  });
});
