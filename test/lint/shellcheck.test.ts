/**
 * The shell the provider sends to DPUs lives in real `.sh` assets (`provider/**\/assets/*.sh`), not in template
 * literals, so shellcheck reads it: every asset, and every script as sent (its includes inlined), must pass
 * `shellcheck --shell=dash` at severity warning (dash is the strictest /bin/sh a DPU runs; busybox ash and bash
 * accept the same). A `disable` directive must say why.
 */
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import * as underlay from "../../provider/underlay/scripts";
import { CTL_SH } from "../../provider/workload/ctl-script";
import { MAX_LOG_BYTES, SUPERVISOR_SH } from "../../provider/workload/supervisor-script";
import { skipUnless } from "../capabilities";

const REPO = join(__dirname, "..", "..");
const HAVE = !skipUnless("shellcheck test", "shellcheck");

/** Every file under an `assets` folder of `dir` ending in `ext`. */
function assets(dir: string, ext: string, inAssets = false): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...assets(p, ext, inAssets || e.name === "assets"));
    else if (inAssets && e.name.endsWith(ext)) out.push(p);
  }
  return out;
}

const SHELL_ASSETS = [...assets(join(REPO, "provider"), ".sh"), ...assets(join(REPO, "simulator"), ".sh")];
const ARGS = ["--shell=dash", "--severity=warning", "--format=gcc"];

/** The scripts as the provider sends them (`sh -c <text>`), includes inlined. */
const SENT: Record<string, string> = {
  "workload ctl": CTL_SH,
  "workload supervisor": SUPERVISOR_SH,
  ...Object.fromEntries(
    Object.entries(underlay)
      .filter(([k, v]) => k.endsWith("_SCRIPT") && typeof v === "string")
      .map(([k, v]) => [`underlay ${k}`, v as string]),
  ),
};

describe.skipIf(!HAVE)("shellcheck on the shell sent to DPUs", () => {
  it("finds the assets of both resources and the shared lock", () => {
    const names = SHELL_ASSETS.map((f) => relative(REPO, f));
    for (const f of [
      "provider/ssh/assets/remote-lock.sh",
      "provider/workload/assets/ctl.sh",
      "provider/workload/assets/ctl-lock.sh",
      "provider/workload/assets/supervisor.sh",
      "provider/underlay/assets/apply.sh",
      "provider/underlay/assets/lock.sh",
      "provider/underlay/assets/tcp-probe.sh",
    ])
      expect(names).toContain(f);
  });

  it("every .sh asset passes shellcheck --shell=dash (severity warning)", () => {
    const r = spawnSync("shellcheck", [...ARGS, ...SHELL_ASSETS], { cwd: REPO, encoding: "utf8" });
    expect(r.stdout + r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  it("every script as sent (includes inlined) passes too", () => {
    expect(Object.keys(SENT).length).toBeGreaterThan(10);
    for (const [name, text] of Object.entries(SENT)) {
      const r = spawnSync("shellcheck", [...ARGS, "-"], { input: text, encoding: "utf8" });
      expect(`${name}: ${r.stdout}${r.stderr}`).toBe(`${name}: `);
      expect(r.status).toBe(0);
    }
  });

  it("each disable directive says why, and no script is still built by text substitution", () => {
    for (const f of SHELL_ASSETS) {
      const text = readFileSync(f, "utf8");
      for (const line of text.split("\n").filter((l) => /#\s*shellcheck\s+disable/.test(l)))
        expect(line, relative(REPO, f)).toMatch(/#\s*shellcheck disable=SC\d+(,SC\d+)* # \S.{8,}/);
      expect(text, relative(REPO, f)).not.toMatch(/\$\{[A-Z_]+_(SH|SCRIPT|FUNCTIONS)\}/);
    }
    for (const [name, text] of Object.entries(SENT)) expect(text, name).not.toMatch(/^# @include /m);
    // apply.sh frames its stdin with the marker the provider writes.
    expect(underlay.APPLY_SCRIPT).toContain(
      `'${underlay.FRAME_MARKER}'*) cur="$dir/\${line#${underlay.FRAME_MARKER}}"`,
    ); // The supervisor's log cap is the one the provider documents and tests.
    expect(SUPERVISOR_SH).toContain(`\nMAXLOG=${MAX_LOG_BYTES}\n`);
  });
});
