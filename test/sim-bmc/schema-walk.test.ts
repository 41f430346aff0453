import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BMC_PROFILES, type SimBmc } from "../../simulator/contracts";
import { FakeBackend, preinstalled } from "./fake-backend";
import { type Lab, rf, SHARED, sharedAvailable, startLab, waitFor } from "./harness";
import { RedfishSchemas } from "./redfish-schemas";

const haveShared = sharedAvailable();

/** Every `@odata.id` (and `@Redfish.ActionInfo`) URI in a body. */
function links(body: unknown, out: Set<string>): void {
  if (Array.isArray(body)) for (const v of body) links(v, out);
  else if (body && typeof body === "object") {
    for (const [k, v] of Object.entries(body)) {
      if ((k === "@odata.id" || k === "@Redfish.ActionInfo") && typeof v === "string" && !v.includes("#"))
        out.add(v);
      else links(v, out);
    }
  }
}

async function crawl(
  lab: Lab,
  bmc: SimBmc,
  schemas: RedfishSchemas,
): Promise<{ visited: string[]; errors: string[] }> {
  const seen = new Set<string>(["/redfish/v1"]);
  const queue = ["/redfish/v1"];
  const errors: string[] = [];
  const visited: string[] = [];
  while (queue.length > 0) {
    const uri = queue.shift() as string;
    const res = await rf(bmc, lab.pki.caPem, "GET", uri);
    visited.push(uri);
    if (res.status !== 200) {
      errors.push(`${uri}: HTTP ${res.status}`);
      continue;
    }
    if (!res.headers.etag || res.json["@odata.etag"] !== res.headers.etag)
      errors.push(`${uri}: ETag missing/mismatch`);
    const type = res.json["@odata.type"];
    // An OEM resource (BlueField's Systems/Bluefield/Oem/Nvidia) follows its vendor's schema, which the DMTF
    // bundle does not hold; the real BMC serves it without @odata.type (shared nvidia-bluefield-bmc capture).
    if (type === undefined && /\/Oem\//.test(uri)) continue;
    if (typeof type !== "string") {
      errors.push(`${uri}: no @odata.type`);
      continue;
    }
    const file = RedfishSchemas.fileOf(type);
    if (!schemas.has(file)) errors.push(`${uri}: ${type} has no schema file ${file}`);
    else for (const e of schemas.validate(file, res.json)) errors.push(`${uri} (${file}): ${e}`);
    const found = new Set<string>();
    links(res.json, found);
    for (const l of found) {
      const norm = l.replace(/\/+$/, "");
      if (!seen.has(norm)) {
        seen.add(norm);
        queue.push(norm);
      }
    }
  }
  return { visited, errors };
}

describe.skipIf(!haveShared)("Redfish schema walk (DMTF JSON schemas)", () => {
  let lab: Lab;
  let schemas: RedfishSchemas;
  beforeAll(async () => {
    schemas = new RedfishSchemas(join(SHARED, "schemas"));
    // Compile the big graph once up front (ComputerSystem pulls in most of the bundle).
    schemas.validator("ComputerSystem.v1_27_0.json");
    lab = await startLab();
  }, 120_000);
  afterAll(async () => lab?.close());

  it("the validator really rejects bad resources (guards against a vacuous walk)", () => {
    const ok = {
      "@odata.id": "/redfish/v1/Systems/1",
      "@odata.type": "#ComputerSystem.v1_27_0.ComputerSystem",
      Id: "1",
      Name: "x",
    };
    expect(schemas.validate("ComputerSystem.v1_27_0.json", ok)).toEqual([]);
    expect(schemas.validate("ComputerSystem.v1_27_0.json", { ...ok, Foo: 1 })).not.toEqual([]);
    expect(schemas.validate("ComputerSystem.v1_27_0.json", { ...ok, PowerState: "Sideways" })).not.toEqual(
      [],
    );
    expect(
      schemas.validate("ComputerSystem.v1_27_0.json", { ...ok, Boot: { BootSourceOverrideTarget: "UsbCd" } }),
    ).not.toEqual([]);
    expect(schemas.validate("redfish-error.v1_0_2.json", { error: { code: "x" } })).not.toEqual([]);
  });

  for (const profile of BMC_PROFILES) {
    it(`${profile}: every resource reachable from /redfish/v1 validates`, async () => {
      const { bmc } = await lab.bmc(profile, { backend: new FakeBackend(`walk-${profile}`, preinstalled()) });
      const ca = lab.pki.caPem;
      await bmc.powerOnAndWait();
      const login = await rf(bmc, ca, "POST", "/redfish/v1/SessionService/Sessions", {
        auth: "none",
        body: { UserName: "root", Password: "lab-password-1" },
      });
      expect(login.status).toBe(201);
      // Put the tree in an interesting state: media inserted, a task, pending settings.
      const sys = (await rf(bmc, ca, "GET", `/redfish/v1/Systems/${bmc.systemId}`)).json;
      if (profile === "bluefield") {
        const up = await rf(bmc, ca, "POST", "/redfish/v1/UpdateService/Actions/UpdateService.SimpleUpdate", {
          body: {
            ImageURI: lab.url("bf-bundle-4.10.bfb"),
            TransferProtocol: "HTTP",
            Targets: ["redfish/v1/UpdateService/FirmwareInventory/DPU_OS"],
          },
        });
        expect(up.status).toBe(202);
        await waitFor(
          async () => (await rf(bmc, ca, "GET", up.headers.location as string)).status === 200,
          "update task",
        );
        const settings = await rf(bmc, ca, "PATCH", `/redfish/v1/Systems/Bluefield/Settings`, {
          body: {
            Boot: {
              BootSourceOverrideTarget: "UefiHttp",
              BootSourceOverrideEnabled: "Once",
              HttpBootUri: lab.url("dpu-os-1.1.iso"),
            },
          },
        });
        expect(settings.status).toBe(200);
      } else {
        const vmColl = sys.VirtualMedia?.["@odata.id"] ?? `/redfish/v1/Managers/BMC/VirtualMedia`;
        const vm = (await rf(bmc, ca, "GET", vmColl)).json.Members[0]["@odata.id"];
        const slot = (await rf(bmc, ca, "GET", vm)).json;
        const ins = await rf(bmc, ca, "POST", slot.Actions["#VirtualMedia.InsertMedia"].target, {
          body: {
            Image: lab.url("dpu-os-1.1.iso"),
            TransferMethod: profile === "intel-ipu" ? "Upload" : "Stream",
          },
        });
        expect([202, 204]).toContain(ins.status);
        if (ins.status === 202) {
          expect(schemas.validate("Task.v1_7_4.json", ins.json)).toEqual([]);
          await waitFor(
            async () => (await rf(bmc, ca, "GET", ins.headers.location as string)).status === 200,
            "upload",
          );
        }
      }
      const { visited, errors } = await crawl(lab, bmc, schemas);
      expect(errors).toEqual([]);
      expect(visited.length).toBeGreaterThan(12);
      expect(visited).toContain(`/redfish/v1/Systems/${bmc.systemId}`);
      if (profile === "bluefield") {
        expect(visited).toContain("/redfish/v1/Systems/Bluefield/Settings");
        expect(visited).toContain("/redfish/v1/Systems/Bluefield/ResetActionInfo");
        expect(visited.some((v) => v.startsWith("/redfish/v1/TaskService/Tasks/"))).toBe(true);
      } else {
        expect(visited.some((v) => /\/VirtualMedia\/[^/]+$/.test(v))).toBe(true);
      }
    });
  }

  it("error bodies validate against redfish-error and use Base MessageIds", async () => {
    const { bmc } = await lab.bmc("generic", { backend: new FakeBackend("errs", preinstalled()) });
    const ca = lab.pki.caPem;
    const sys = `/redfish/v1/Systems/${bmc.systemId}`;
    const etag = (await rf(bmc, ca, "GET", sys)).headers.etag as string;
    const cases = [
      await rf(bmc, ca, "GET", "/redfish/v1/NoSuchThing"),
      await rf(bmc, ca, "GET", "/redfish/v1/Systems", { auth: "none" }),
      await rf(bmc, ca, "DELETE", sys),
      await rf(bmc, ca, "PATCH", sys, {
        body: { Bogus: 1, PowerState: "Off", Boot: { BootSourceOverrideTarget: "Floppy" } },
      }),
      await rf(bmc, ca, "PATCH", sys, {
        body: { AssetTag: "x" },
        headers: { "If-Match": `${etag.slice(0, -2)}0"` },
      }),
      await rf(bmc, ca, "POST", `${sys}/Actions/ComputerSystem.Reset`, { body: {} }),
      await rf(bmc, ca, "POST", `${sys}/Actions/ComputerSystem.Reset`, { body: "{not json" }),
    ];
    bmc.setFaults({ fail503Count: 1 });
    cases.push(await rf(bmc, ca, "GET", sys));
    expect(cases.map((c) => c.status)).toEqual([404, 401, 405, 400, 412, 400, 400, 503]);
    for (const c of cases) {
      expect(schemas.validate("redfish-error.v1_0_2.json", c.json)).toEqual([]);
      expect(c.json.error.code).toMatch(/^Base\.1\.22\./);
    }
  });
});
