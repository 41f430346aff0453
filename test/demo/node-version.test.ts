import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { demo } from "../../cli/demo";
import { main } from "../../cli/main";
import { MIN_NODE, nodeVersionProblem } from "../../cli/node-version";

// Issue 14 item 4: `engines` said >=22 while the demo needs Node >= 22.18 (type stripping), and the demo found
// out only after it had started a lab. Now engines says 22.18, the CLI refuses an older Node before any
// subcommand loads, and the demo checks type stripping (when it will use the harness) before the lab.

const { startLab } = vi.hoisted(() => ({
  startLab: vi.fn(async () => {
    throw new Error("the lab was started");
  }),
}));
vi.mock("../../simulator/lab", async (importOriginal) => ({
  ...(await importOriginal<typeof import("../../simulator/lab")>()),
  startLab,
}));

function capture(stream: "stdout" | "stderr"): { text: () => string } {
  let out = "";
  vi.spyOn(process[stream], "write").mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  return { text: () => out };
}

afterEach(() => {
  vi.restoreAllMocks();
  startLab.mockClear();
});

describe("the Node version pulumi-dpu needs", () => {
  it("package.json engines.node is the CLI's minimum, 22.18 or later (type stripping)", () => {
    const pkg = JSON.parse(readFileSync(join(__dirname, "..", "..", "package.json"), "utf8")) as {
      engines: { node: string };
    };
    expect(pkg.engines.node).toBe(`>=${MIN_NODE}`);
    expect(nodeVersionProblem("v22.17.1")).toMatch(/Node v22\.17\.1 is too old.*>= 22\.18/);
    expect(nodeVersionProblem("v22.0.0")).toBeDefined();
    expect(nodeVersionProblem("v20.20.2")).toBeDefined();
    expect(nodeVersionProblem("v22.18.0")).toBeUndefined();
    expect(nodeVersionProblem("v23.0.0")).toBeUndefined();
    expect(nodeVersionProblem("v24.21.0")).toBeUndefined();
  });

  it("the CLI refuses an older Node before any subcommand runs (sim, demo, inspect)", async () => {
    for (const argv of [
      ["sim", "--count", "1"],
      ["demo", "--count", "1"],
      ["inspect", "--endpoint", "x"],
    ]) {
      const err = capture("stderr");
      const code = await main(argv, "v22.17.0");
      expect(code).toBe(1);
      expect(err.text()).toMatch(/Node v22\.17\.0 is too old.*22\.18.*nothing was started/);
      vi.restoreAllMocks();
    }
    expect(startLab).not.toHaveBeenCalled();
  });

  it("demo without a Pulumi CLI on a Node that does not strip types fails before starting a lab", async () => {
    const err = capture("stderr");
    const out = capture("stdout");
    const code = await demo(["--harness", "--count", "1"], {});
    expect(code).toBe(1);
    expect(err.text()).toMatch(/does not strip TypeScript types.*>= 22\.18.*nothing was started/);
    expect(out.text()).not.toContain("starting the lab");
    expect(startLab).not.toHaveBeenCalled();
  });
});
