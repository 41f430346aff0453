import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../../engine";
import { missingCapability, skipOrFail } from "../capabilities";

// The demo's Pulumi CLI path, which cannot run for real on machines without the CLI: the demo is pointed at a
// stand-in `pulumi` that records each command line, the backend and passphrase environment, and a digest of
// what it read on stdin. It proves the command sequence a user would type, that the secret key travels on
// stdin only, and that the run works in a copy of examples/fleet, not in the package.

const BIN = path.join(REPO_ROOT, "bin", "pulumi-dpu.js");

function unavailable(): string | undefined {
  const lab = missingCapability("lab");
  if (lab) return lab;
  if (!fs.existsSync(path.join(REPO_ROOT, "dist", "cli", "demo-pulumi-cli.js")))
    return "dist/ is not built (npm run build)";
  return undefined;
}
const reason = unavailable();
skipOrFail("demo CLI-path test", reason);

const FAKE = `#!/bin/sh
if [ "$1" = version ]; then echo v3.999.0; exit 0; fi
digest=$(cat | sha256sum | cut -c1-16)
printf '%s|%s|%s|%s|%s\\n' "$*" "$PULUMI_BACKEND_URL" "\${PULUMI_CONFIG_PASSPHRASE-unset}" "$digest" "$(pwd)" >> "$FAKE_PULUMI_LOG"
[ "$1" = up ] && printf 'Resources:\n    + 9 created\n\nDuration: 1m\n'
[ "$1" = preview ] && printf 'Resources:\n    ~ 9 to update\n'

exit 0
`;

describe.skipIf(reason !== undefined)(
  `demo with a Pulumi CLI${reason ? ` (skipped: ${reason})` : ""}`,
  () => {
    let dir: string;
    beforeAll(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), "dpu-fake-pulumi-"));
      fs.writeFileSync(path.join(dir, "pulumi"), FAKE, { mode: 0o755 });
    });
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("runs stack init, config, up, config change, preview --diff, up, destroy, stack rm", async () => {
      const log = path.join(dir, "calls.log");
      const { code, out } = await new Promise<{ code: number | null; out: string }>((resolve, reject) => {
        const child = spawn(
          process.execPath,
          [BIN, "demo", "--boot-time-ms", "300", "--pulumi", path.join(dir, "pulumi")],
          { cwd: REPO_ROOT, env: { ...process.env, NODE_OPTIONS: "", FAKE_PULUMI_LOG: log } },
        );
        let text = "";
        child.stdout.setEncoding("utf8").on("data", (d: string) => {
          text += d;
        });
        child.stderr.setEncoding("utf8").on("data", (d: string) => {
          text += d;
        });
        child.once("error", reject);
        child.once("close", (c) => resolve({ code: c, out: text }));
      });
      if (code !== 0) console.error(out);
      expect(code).toBe(0);
      expect(out).toMatch(/── Pulumi CLI v3\.999\.0 \(.*\/pulumi\)/);
      expect(out).toMatch(/up \(provision the fleet\) +9 created +\d/);
      expect(out).toMatch(/preview --diff +9 to update +\d/);
      expect(out).toContain('pulumi config set dpufleet:image "dpu-os-2.0.iso"');
      expect(out).toContain("pulumi config set --secret dpu:sshPrivateKey [secret]");
      expect(out).toMatch(/Fleet dashboard: http:\/\/127\.0\.0\.1:\d+\//);

      const calls = fs
        .readFileSync(log, "utf8")
        .trim()
        .split("\n")
        .map((l) => {
          const [argv = "", backend = "", pass = "", stdin = "", cwd = ""] = l.split("|");
          return { argv, backend, pass, stdin, cwd };
        });
      const argv = calls.map((c) => c.argv.replace(/ --cwd \S+ --non-interactive$/, ""));
      expect(argv).toEqual([
        "stack init demo",
        "config set dpufleet:endpointsFile",
        "config set dpu:bmcUsername",
        "config set dpu:bmcCaCert",
        "config set --secret dpu:sshPrivateKey",
        "up --yes",
        "config set dpufleet:image",
        "config set dpufleet:greeting",
        "preview --diff",
        "up --yes",
        "destroy --yes",
        "stack rm demo --yes",
      ]);
      // Every command: a local file backend, an empty passphrase (no prompt), a copy of the example.
      const programDir = /--cwd (\S+)/.exec(calls[0]?.argv ?? "")?.[1] ?? "";
      expect(programDir).toMatch(/pulumi-dpu-demo-.*\/fleet$/);
      for (const c of calls) {
        expect(c.backend).toMatch(/^file:\/\/.*pulumi-dpu-demo-.*\/backend$/);
        expect(c.pass).toBe("");
        expect(c.argv).toContain(`--cwd ${programDir}`);
      }
      // Values travel on stdin (the private key above all), never on a command line.
      const empty = "e3b0c44298fc1c14"; // sha256 of nothing
      expect(calls[4]?.stdin).not.toBe(empty);
      expect(calls[6]?.stdin).not.toBe(empty);
      expect(out).not.toMatch(/BEGIN OPENSSH PRIVATE KEY/);
      // The copy is removed with the run's directory; the package's example got no stack file.
      expect(fs.existsSync(programDir)).toBe(false);
      expect(fs.existsSync(path.join(REPO_ROOT, "examples", "fleet", "Pulumi.demo.yaml"))).toBe(false);
    }, 90_000);
  },
);
