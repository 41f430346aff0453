import { existsSync } from "node:fs";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { sim } from "../../cli/sim";
import { LAB_SHELL_ENV, type Lab, type LightLab, startLab, startLightLab } from "../../simulator";
import { passwdWithRootShell } from "../../simulator/dpu/os-shell";
import { shellFor } from "../../simulator/lab/start-lab";
import { type DpuEndpoint, skipLab, ssh } from "./helpers";

const SKIP = skipLab();

/** What every DPU reports about its shells: /bin/sh, /usr/bin/sh, the login shell of an SSH session. */
const WHO = "readlink -f /bin/sh; readlink -f /usr/bin/sh; readlink -f /proc/$$/exe; getent passwd root";

describe("the lab's shell choice (no lab)", () => {
  const saved = process.env[LAB_SHELL_ENV];
  afterEach(() => {
    if (saved === undefined) delete process.env[LAB_SHELL_ENV];
    else process.env[LAB_SHELL_ENV] = saved;
  });

  it("defaults to dash; PULUMI_DPU_LAB_SHELL changes the default; an explicit shell wins", () => {
    delete process.env[LAB_SHELL_ENV];
    expect(shellFor(undefined, 0)).toBe("dash");
    process.env[LAB_SHELL_ENV] = "busybox";
    expect(shellFor(undefined, 3)).toBe("busybox");
    expect(shellFor(["dash"], 0)).toBe("dash");
    expect(shellFor(["dash"], 1)).toBe("busybox");
    expect(shellFor("dash", 5)).toBe("dash");
    process.env[LAB_SHELL_ENV] = "zsh";
    expect(() => shellFor(undefined, 0)).toThrow(/PULUMI_DPU_LAB_SHELL=zsh: must be one of dash, busybox/);
  });

  it("rewrites only root's login shell in the image's /etc/passwd", () => {
    const host = "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n";
    expect(passwdWithRootShell(host, "/bin/sh")).toBe(
      "root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n",
    );
    expect(passwdWithRootShell("daemon:x:1:1::/:/bin/false", "/bin/sh")).toBe(
      "root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1::/:/bin/false\n",
    );
  });

  it("refuses busybox for a VM DPU and an unknown --shell, before starting anything", async () => {
    await expect(startLab({ count: 1, backend: "vm", shell: "busybox" })).rejects.toThrow(
      /VM DPU runs the Debian DPU OS image, whose \/bin\/sh is dash, not busybox/,
    );
    const err = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    try {
      const code = await sim([
        "--count",
        "1",
        "--shell",
        "dash,ksh",
        "--endpoints-file",
        "/nonexistent/f.json",
      ]);
      expect(code).toBe(2);
      expect(err.mock.calls.map((c) => String(c[0])).join("")).toMatch(
        /--shell: unknown shell 'ksh' \(known: dash, busybox\)/,
      );
    } finally {
      err.mockRestore();
    }
  });
});

describe.skipIf(SKIP)("DPU shells (2 namespace DPUs: dash, busybox)", () => {
  let lab: Lab;
  let dash: DpuEndpoint;
  let busybox: DpuEndpoint;

  beforeAll(async () => {
    lab = await startLab({ count: 2, bootTimeMs: 0, shell: ["dash", "busybox"] });
    dash = lab.endpoints.dpus[0]!;
    busybox = lab.endpoints.dpus[1]!;
  });
  afterAll(async () => {
    await lab?.stop();
  });

  it("reports each DPU's shell", () => {
    expect([...lab.dpus.values()].map((d) => d.shell)).toEqual(["dash", "busybox"]);
  });

  it("dash DPU: /bin/sh is dash, root logs in with bash, and sh -c fails the dash way", async () => {
    const who = await ssh(dash, WHO);
    expect(who.code).toBe(0);
    const [binSh, usrBinSh, login, passwd] = who.stdout.trim().split("\n");
    expect(binSh).toBe("/usr/bin/dash");
    expect(usrBinSh).toBe("/usr/bin/dash");
    expect(login).toMatch(/\/bash$/);
    expect(passwd).toMatch(/^root:.*:\/bin\/bash$/);

    expect(await ssh(dash, "sh -c 'echo $((1+1))'")).toMatchObject({ code: 0, stdout: "2\n" });
    const arrays = await ssh(dash, "sh -c 'x=(a b); echo $x'");
    expect(arrays.code).toBe(2);
    expect(arrays.stderr).toMatch(/^sh: 1: Syntax error: "\(" unexpected/);
    // The rollback-timer bug: dash's kill builtin refuses `--` before a negative process group.
    const kill = await ssh(dash, "sh -c 'kill -TERM -- -999999'; echo rc=$?");
    expect(kill.stdout).toBe("rc=2\n");
    expect(kill.stderr).toMatch(/^sh: 1: kill: Illegal number: /);
    expect((await ssh(dash, "command -v bash")).stdout.trim()).toMatch(/\/bash$/);
  });

  it("busybox DPU: /bin/sh is busybox ash, root logs in with it, and there is no bash", async () => {
    const who = await ssh(busybox, WHO);
    expect(who.code).toBe(0);
    const [binSh, usrBinSh, login, passwd] = who.stdout.trim().split("\n");
    expect(binSh).toBe("/usr/bin/busybox");
    expect(usrBinSh).toBe("/usr/bin/busybox");
    expect(login).toBe("/usr/bin/busybox");
    expect(passwd).toMatch(/^root:.*:\/bin\/sh$/);

    expect((await ssh(busybox, "sh --help 2>&1")).stdout).toMatch(/^BusyBox v/);
    expect(await ssh(busybox, "sh -c 'echo $((1+1))'")).toMatchObject({ code: 0, stdout: "2\n" });
    const arrays = await ssh(busybox, "sh -c 'x=(a b); echo $x'");
    expect(arrays.code).toBe(2);
    expect(arrays.stderr).toMatch(/^sh: syntax error: unexpected "\("/);
    const kill = await ssh(busybox, "sh -c 'kill -TERM -- -999999'; echo rc=$?");
    expect(kill.stdout).toBe("rc=2\n");
    expect(kill.stderr).toMatch(/^sh: invalid number '--'/);
    const bash = await ssh(busybox, "command -v bash || echo none; test -e /bin/bash || echo no-bin-bash");
    expect(bash.stdout).toBe("none\nno-bin-bash\n");
    // Applets a busybox image has and the lab machine lacks, such as nc for a TCP health probe without bash.
    expect((await ssh(busybox, 'readlink -f "$(command -v nc)"')).stdout).toBe("/usr/bin/busybox\n");
  });

  it("keeps the shell across a power cycle; files written to /usr/bin stay on the DPU's disk", async () => {
    const name = `dpu-shell-probe-${process.pid}`;
    expect((await ssh(busybox, `touch /usr/bin/${name}`)).code).toBe(0);
    expect(existsSync(`/usr/bin/${name}`)).toBe(false);
    const backend = lab.dpus.get("dpu-1")!.backend;
    await backend.stop();
    await backend.start();
    const after = await ssh(busybox, `readlink -f /bin/sh; test -e /usr/bin/${name} && echo kept`);
    expect(after.stdout).toBe("/usr/bin/busybox\nkept\n");
  });
});

describe.skipIf(SKIP)("light lab shells", () => {
  let lab: LightLab;
  beforeAll(async () => {
    lab = await startLightLab({ count: 2, groupSize: 1, shell: ["busybox", "dash"] });
  });
  afterAll(async () => {
    await lab?.stop();
  });

  it("gives each shared OS the shell of its DPUs", async () => {
    expect([...lab.dpus.values()].map((d) => d.shell)).toEqual(["busybox", "dash"]);
    const [b, d] = lab.endpoints.dpus;
    expect((await ssh(b!, "readlink -f /bin/sh")).stdout).toBe("/usr/bin/busybox\n");
    expect((await ssh(d!, "readlink -f /bin/sh")).stdout).toBe("/usr/bin/dash\n");
  });
});
