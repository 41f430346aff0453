import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { missingCapability, REPO_ROOT, skipOrFail, unavailable } from "../capabilities";

const TEST_DIR = join(REPO_ROOT, "test");
/** Files that still decide a prerequisite on their own: under another engineer's uncommitted change. */
const PENDING = new Set(["test/faults/kill.test.ts"]);

function testFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) return n === "node_modules" ? [] : testFiles(p);
    return p.endsWith(".ts") ? [p] : [];
  });
}

describe("test/capabilities.ts: one set of criteria per capability, CI fails loudly", () => {
  const saved = process.env.CI;
  afterEach(() => {
    if (saved === undefined) delete process.env.CI;
    else process.env.CI = saved;
  });

  it("with CI=true a missing prerequisite throws, naming the test and the reason", () => {
    process.env.CI = "true";
    expect(() => skipOrFail("the widget test", "needs a widget")).toThrow(
      "the widget test cannot run: needs a widget",
    );
  });

  it("without CI it is a skip with its reason; nothing missing passes through", () => {
    delete process.env.CI;
    expect(skipOrFail("the widget test", "needs a widget")).toBe("needs a widget");
    expect(skipOrFail("the widget test", undefined)).toBeUndefined();
    process.env.CI = "true";
    expect(skipOrFail("the widget test", undefined)).toBeUndefined();
  });

  it("agrees with this machine: what is present is not reported missing", () => {
    const root = process.platform === "linux" && process.getuid?.() === 0;
    expect(missingCapability("root") === undefined).toBe(root);
    // `lab` needs at least what `root` needs.
    if (!root) expect(missingCapability("lab")).toBeDefined();
    delete process.env.CI;
    expect(unavailable("x", "root")).toBe(missingCapability("root"));
  });

  it("no test file decides a prerequisite on its own (process.env.CI, getuid) outside test/capabilities.ts", () => {
    const own = testFiles(TEST_DIR)
      .map((f) => relative(REPO_ROOT, f))
      .filter(
        (f) => f !== "test/capabilities.ts" && f !== "test/unit/capabilities.test.ts" && !PENDING.has(f),
      )
      .filter((f) => /process\.env\.CI\b|\bgetuid\b/.test(readFileSync(join(REPO_ROOT, f), "utf8")));
    expect(own).toEqual([]);
  });
});
