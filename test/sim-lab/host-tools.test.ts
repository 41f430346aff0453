import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  aptInstallCommand,
  LAB_TOOLS,
  labToolsProblem,
  missingLabTools,
  searchDirs,
} from "../../simulator/dpu/host-tools";
import { checkLabStart } from "../../simulator/lab/lab-parts";
import { skipLab } from "./helpers";

// Issue 14 item 10: an installed package has no scripts/ (no prereqs.js), yet the simulator's hint said "run
// node scripts/prereqs.js" and the installed CLI never checked its tools. The lab now checks them before anything
// starts and names the exact apt-get command; no shipped code points at scripts/.

const REPO = join(__dirname, "..", "..");

/** Every .ts file under `dir`. */
function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith(".ts") ? [p] : [];
  });
}

describe("the lab's system tools, checked before a lab starts", () => {
  it("with none of them found, names every missing tool and the exact apt-get command", () => {
    expect(missingLabTools([])).toEqual(LAB_TOOLS);
    const problem = labToolsProblem([]);
    expect(problem).toContain(LAB_TOOLS.map((t) => t.cmd).join(", "));
    expect(problem).toContain(aptInstallCommand(LAB_TOOLS.map((t) => t.pkg)));
    expect(aptInstallCommand(["util-linux", "tini", "util-linux"])).toBe(
      "apt-get update && apt-get install -y --no-install-recommends util-linux tini",
    );
  });

  it.skipIf(skipLab())("on a lab machine nothing is missing and checkLabStart passes", () => {
    expect(missingLabTools(searchDirs())).toEqual([]);
    expect(() => checkLabStart(1)).not.toThrow();
  });

  it("no shipped code (cli, provider, sdk, simulator) tells a user to run scripts/, which is not shipped", () => {
    const files = ["cli", "provider", "sdk", "simulator"].flatMap((d) => sources(join(REPO, d)));
    const offending = files.filter((f) => /scripts\/prereqs/.test(readFileSync(f, "utf8")));
    expect(offending).toEqual([]);
  });
});
