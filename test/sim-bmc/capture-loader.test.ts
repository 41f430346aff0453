import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadCaptureTree } from "../../simulator/bmc/capture/load-tree";
import { locateCapture, mockupsDirCandidates } from "../../simulator/bmc/capture/locate";

const root = mkdtempSync(join(tmpdir(), "capture-loader-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function put(path: string, body: unknown): void {
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, typeof body === "string" ? body : JSON.stringify(body));
}

describe("capture loader (DMTF mockup layouts)", () => {
  it("reads tall (dir/index.json), short (Name.json) and registry files into URI paths", () => {
    const dir = join(root, "tall");
    put(join(dir, "index.json"), { "@odata.id": "/redfish/v1", Id: "RootService" });
    put(join(dir, "explorer_config.json"), { name: "not a resource" });
    put(join(dir, "Systems", "index.json"), { Members: [{ "@odata.id": "/redfish/v1/Systems/1" }] });
    put(join(dir, "Systems", "1.json"), { Id: "1" });
    put(join(dir, "Registries", "Base.1.5.0", "index.json"), { Id: "Base.1.5.0" });
    put(join(dir, "Registries", "Base.1.5.0.json"), { Id: "Base.1.5.0", Messages: {} });
    put(join(dir, "$metadata", "index.xml"), "<edmx:Edmx/>");
    put(join(dir, "Broken", "error.txt"), "HTTP 200\nAllow: GET\n\n");
    const tree = loadCaptureTree(dir);
    expect([...tree.resources.keys()].sort()).toEqual([
      "/redfish/v1",
      "/redfish/v1/$metadata",
      "/redfish/v1/Broken",
      "/redfish/v1/Registries/Base.1.5.0",
      "/redfish/v1/Registries/Base.1.5.0.json",
      "/redfish/v1/Systems",
      "/redfish/v1/Systems/1",
    ]);
    expect(tree.resources.get("/redfish/v1/Systems/1")).toEqual({ kind: "json", body: { Id: "1" } });
    expect(tree.resources.get("/redfish/v1/$metadata")).toEqual({ kind: "xml", text: "<edmx:Edmx/>" });
    expect(tree.resources.get("/redfish/v1/Broken")).toEqual({ kind: "raw", status: 200, text: "" });
    // Once per process: the same object comes back.
    expect(loadCaptureTree(dir)).toBe(tree);
  });

  it("reads the redfish/v1 nesting (BlueField captures), /redfish included", () => {
    const dir = join(root, "nested");
    put(join(dir, "redfish", "index.json"), { v1: "/redfish/v1/" });
    put(join(dir, "redfish", "v1", "index.json"), { Id: "RootService" });
    put(join(dir, "redfish", "v1", "Managers", "BMC", "index.json"), { Id: "BMC" });
    const tree = loadCaptureTree(dir);
    expect([...tree.resources.keys()].sort()).toEqual([
      "/redfish",
      "/redfish/v1",
      "/redfish/v1/Managers/BMC",
    ]);
  });

  it("a missing capture fails with the places it looked", () => {
    const where = join(root, "nowhere");
    expect(mockupsDirCandidates(where)[0]).toBe(where);
    expect(() => locateCapture("no-such-capture", where)).toThrow(
      new RegExp(
        `capture 'no-such-capture' not found: looked in ${join(where, "no-such-capture")}.*PULUMI_DPU_MOCKUPS`,
      ),
    );
    const empty = join(root, "empty");
    mkdirSync(empty);
    expect(() => loadCaptureTree(empty)).toThrow(/no service root/);
  });
});
