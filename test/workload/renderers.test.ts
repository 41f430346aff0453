import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { resolveSpec } from "../../provider/resources/dpu-workload.deploy";
import type { ConcreteRuntime } from "../../provider/resources/dpu-workload.schema";
import { DpuWorkloadInputsSchema } from "../../provider/resources/dpu-workload.schema";
import { CTL_SH } from "../../provider/workload/ctl-script";
import { renderSpecFiles } from "../../provider/workload/files";
import { podmanRunArgv, renderQuadlet } from "../../provider/workload/podman";
import { ctlArgv } from "../../provider/workload/remote";
import { SUPERVISOR_SH } from "../../provider/workload/supervisor-script";
import {
  execStartProblem,
  renderSystemdEnvFile,
  renderSystemdUnit,
  systemdQuote,
} from "../../provider/workload/systemd";
import { ustar } from "../../provider/workload/tar";
import { skipUnless } from "../capabilities";

const GOLDEN = join(__dirname, "golden");
const tmp = mkdtempSync(join(tmpdir(), "workload-golden-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Compares with a golden file; `UPDATE_GOLDEN=1` (re)writes it. A missing golden file is a failure. */
function golden(name: string, actual: string): void {
  const file = join(GOLDEN, name);
  if (process.env.UPDATE_GOLDEN === "1") writeFileSync(file, actual);
  expect(existsSync(file), `golden file ${name} missing (run with UPDATE_GOLDEN=1)`).toBe(true);
  expect(actual).toBe(readFileSync(file, "utf8"));
}

const SECRET = "golden-secret-value-42";

function spec(runtime: ConcreteRuntime) {
  const inputs = DpuWorkloadInputsSchema.parse({
    connection: { host: "198.18.0.10", privateKey: "k" },
    name: "telemetry",
    runtime,
    command: ["/opt/telemetry/agent", "--listen", "0.0.0.0:9100", "--label", 'rack "A" 100% $HOME'],
    workingDir: "/opt/telemetry",
    user: "telemetry",
    image:
      runtime === "podman"
        ? {
            reference: "registry.example/telemetry:1.4",
            digest: `sha256:${"ab".repeat(32)}`,
            pullPolicy: "missing",
          }
        : undefined,
    env: { LOG_LEVEL: "info", QUOTED: "it's $x" },
    secretEnv: { API_TOKEN: SECRET },
    restart: "always",
    cpuLimit: 0.5,
    memoryLimitMb: 256,
    ports:
      runtime === "podman"
        ? [
            { containerPort: 9100, hostIp: "127.0.0.1" },
            { containerPort: 53, protocol: "udp", hostPort: 5353 },
          ]
        : [],
    health: { httpUrl: "http://127.0.0.1:9100/healthz", timeoutMs: 1500 },
    artifacts: [{ source: { content: "x" }, destination: "/opt/telemetry/agent", mode: "755" }],
  });
  return resolveSpec(inputs, runtime, [
    { destination: "/opt/telemetry/agent", mode: "0755", sha256: "0".repeat(64) },
  ]);
}

describe("systemd renderer", () => {
  test("unit and env file match the golden files and pass systemd-analyze verify", () => {
    const s = spec("systemd");
    const unit = renderSystemdUnit(s);
    golden("systemd-telemetry.service", unit);
    golden("systemd-telemetry.env", renderSystemdEnvFile(s.env));
    expect(systemdQuote("100% $HOME")).toBe('"100%% $$HOME"');
    if (skipUnless("systemd-analyze verify", "systemd-analyze")) return;
    // Verify a copy whose binary exists on this machine and whose env file is local.
    writeFileSync(join(tmp, "telemetry.env"), renderSystemdEnvFile(s.env));
    const local = unit
      .replace('"/opt/telemetry/agent"', '"/bin/sleep"')
      .replace(/^WorkingDirectory=.*$/m, "WorkingDirectory=/")
      .replace(/^User=.*$/m, "User=root")
      .replace(/^EnvironmentFile=.*$/m, `EnvironmentFile=${join(tmp, "telemetry.env")}`);
    const unitFile = join(tmp, "pulumi-dpu-telemetry.service");
    writeFileSync(unitFile, local);
    const r = spawnSync("systemd-analyze", ["verify", unitFile], { encoding: "utf8" });
    expect(r.stderr.split("\n").filter((l) => l.includes("pulumi-dpu-telemetry"))).toEqual([]);
    expect(r.status).toBe(0);
  });
});

describe("podman renderer", () => {
  test("run argv (digest-pinned, labelled) and Quadlet unit match the golden files", () => {
    const s = spec("podman");
    const argv = podmanRunArgv(s);
    golden("podman-telemetry.argv.json", `${JSON.stringify(argv, null, 2)}\n`);
    golden("podman-telemetry.container", renderQuadlet(s));
    expect(argv).toContain(`registry.example/telemetry:1.4@sha256:${"ab".repeat(32)}`);
    expect(argv).toContain("--label=io.pulumi-dpu.workload=telemetry");
    expect(argv.join(" ")).not.toContain(SECRET);
  });
});

describe("process runtime files", () => {
  test("meta, argv and env files match the golden files; secrets only in the 0600 env file", () => {
    const files = renderSpecFiles(spec("process"));
    const byPath = new Map(files.map((f) => [f.path, f]));
    golden("process-telemetry.meta", byPath.get("spec/meta")!.content);
    golden("process-telemetry.argv", byPath.get("spec/argv")!.content);
    // The process runtime's env is `export NAME='value'` lines, loaded by the child's subshell only.
    expect(byPath.get("spec/env.sh")!.mode).toBe(0o600);
    expect(byPath.get("spec/env.sh")!.content).toMatch(/^export API_TOKEN=/m);
    expect(byPath.get("spec/env.sh")!.content).toContain(SECRET);
    for (const f of files) if (f.path !== "spec/env.sh") expect(f.content).not.toContain(SECRET);
    expect(byPath.get("supervisor.sh")!.content).toBe(SUPERVISOR_SH);
  });

  test("the tar bundle extracts with the right modes", () => {
    const files = renderSpecFiles(spec("process"));
    const dir = join(tmp, "extract");
    execFileSync("mkdir", ["-p", dir]);
    execFileSync("tar", ["-x", "-f", "-", "-C", dir, "--no-same-owner"], { input: ustar(files) });
    for (const f of files) {
      expect(readFileSync(join(dir, f.path), "utf8")).toBe(f.content);
      const mode = Number.parseInt(
        execFileSync("stat", ["-c", "%a", join(dir, f.path)], { encoding: "utf8" }),
        8,
      );
      expect(mode).toBe(f.mode);
    }
  });
});

describe("remote scripts", () => {
  test("are valid POSIX sh (dash and bash parse them)", () => {
    for (const shell of ["dash", "bash"]) {
      for (const [name, text] of [
        ["ctl", CTL_SH],
        ["supervisor", SUPERVISOR_SH],
      ] as const) {
        const r = spawnSync(shell, ["-n"], { input: text, encoding: "utf8" });
        expect(r.stderr, `${shell} -n ${name}`).toBe("");
        expect(r.status).toBe(0);
      }
    }
  });

  test("user data travels as positional arguments, never inside the script text", () => {
    const argv = ctlArgv("status", { root: "/r", name: "x; rm -rf /", runtime: "process" }, ["1", "5"]);
    expect(argv.slice(0, 3)).toEqual(["sh", "-c", CTL_SH]);
    expect(argv[2]).not.toContain("rm -rf /");
    expect(argv.slice(4)).toEqual(["status", "/r", "x; rm -rf /", "process", "1", "5"]);
  });

  test("status of an absent workload is one JSON document", () => {
    const r = spawnSync("sh", ["-c", CTL_SH, "ctl", "status", tmp, "nothing", "process", "1", "10"], {
      encoding: "utf8",
    });
    expect(JSON.parse(r.stdout)).toEqual({ present: false });
  });
});

describe("systemd ExecStart prefixes (issue 12 item 6)", () => {
  const PREFIXES = ["+", "!", "!!", "-", "@", ":", "|"];
  const hasAnalyze = !skipUnless("systemd ExecStart prefix checks", "systemd-analyze");

  /** `systemd-analyze verify` on a one-command service; returns the lines naming the unit. */
  function verifyExecStart(execStart: string): string[] {
    const file = join(tmp, "pulumi-dpu-prefix.service");
    writeFileSync(file, `[Unit]\nDescription=t\n[Service]\nType=exec\nExecStart=${execStart}\n`);
    const r = spawnSync("systemd-analyze", ["verify", file], { encoding: "utf8" });
    return r.stderr.split("\n").filter((l) => l.includes("pulumi-dpu-prefix"));
  }

  test.skipIf(!hasAnalyze)(
    "systemd reads a prefix inside a quoted first word, and after a quoted `;`",
    () => {
      // Why quoting is not enough: `x/bin/sleep` (no prefix) is refused as a path, `"+x/bin/sleep"` is reported as
      // `x/bin/sleep`, so systemd stripped the `+` from the quoted word. A quoted `;` as first word separates.
      expect(verifyExecStart('"x/bin/sleep" "1"').join("\n")).toContain(": x/bin/sleep");
      for (const p of ["+", "!", "!!", "-", "@", ":"]) {
        expect(verifyExecStart(`${systemdQuote(`${p}x/bin/sleep`)} "1"`).join("\n")).toContain(
          ": x/bin/sleep",
        );
      }
      expect(verifyExecStart('";" "+x/bin/sleep"').join("\n")).toContain(": x/bin/sleep");
    },
  );

  test("the renderer refuses a first word systemd would read as a prefix or a separator", () => {
    for (const argv0 of [...PREFIXES.map((p) => `${p}/bin/sh`), ";", ""]) {
      const s = { ...spec("systemd"), argv: [argv0, "-c", "id"] };
      expect(() => renderSystemdUnit(s), argv0).toThrow(/cannot render its systemd unit: command\[0\]/);
    }
    expect(execStartProblem("+/bin/sh")).toContain("full privileges, ignoring `user`");
    for (const ok of ["/bin/sh", "python3", "./run", "_x", "9p"])
      expect(execStartProblem(ok)).toBeUndefined();
  });

  test.skipIf(!hasAnalyze)(
    "prefix characters in later words stay arguments: the rendered unit verifies",
    () => {
      const s = { ...spec("systemd"), argv: ["/bin/sleep", "+1", ";", "-x", "@y", "!z", ":w", "|v"] };
      const unit = renderSystemdUnit(s)
        .replace(/^WorkingDirectory=.*$/m, "WorkingDirectory=/")
        .replace(/^User=.*$/m, "User=root")
        .replace(/^EnvironmentFile=.*$/m, "");
      expect(unit).toContain('ExecStart="/bin/sleep" "+1" ";" "-x" "@y" "!z" ":w" "|v"');
      const file = join(tmp, "pulumi-dpu-args.service");
      writeFileSync(file, unit);
      const r = spawnSync("systemd-analyze", ["verify", file], { encoding: "utf8" });
      expect(r.stderr.split("\n").filter((l) => l.includes("pulumi-dpu-args"))).toEqual([]);
      expect(r.status).toBe(0);
    },
  );
});
