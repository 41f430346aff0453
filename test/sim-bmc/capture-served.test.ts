import { Agent, request } from "node:https";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCaptureModel } from "../../simulator/bmc/capture/model";
import { CAPTURE_BMC_PROFILES, type SimBmc } from "../../simulator/contracts";
import { FakeBackend, preinstalled } from "./fake-backend";
import { type Lab, PASS, SHARED, sharedAvailable, startLab, USER } from "./harness";
import { RedfishSchemas } from "./redfish-schemas";

const haveShared = sharedAvailable();

type Json = Record<string, unknown>;

/** Fields the state machine owns, by resource type (everything else must be served exactly as captured). */
const OWNED: Readonly<Record<string, readonly string[]>> = {
  ComputerSystem: ["PowerState", "BootProgress", "LastResetTime", "AssetTag", "Boot"],
  VirtualMedia: [
    "Image",
    "ImageName",
    "Inserted",
    "WriteProtected",
    "ConnectedVia",
    "TransferProtocolType",
    "TransferMethod",
  ],
  SessionCollection: ["Members", "Members@odata.count"],
  TaskCollection: ["Members", "Members@odata.count"],
};

function withoutOwned(body: Json, capturedEtag: boolean): Json {
  const out = structuredClone(body);
  const type = typeof out["@odata.type"] === "string" ? out["@odata.type"] : "";
  const name = /^#([A-Za-z]+)\./.exec(type)?.[1] ?? "";
  for (const k of OWNED[name] ?? []) delete out[k];
  if (!capturedEtag) delete out["@odata.etag"];
  return out;
}

/** Keep-alive GETs (hundreds per capture). */
function getter(bmc: SimBmc, ca: string) {
  const agent = new Agent({ keepAlive: true, maxSockets: 4, ca });
  const auth = `Basic ${Buffer.from(`${USER}:${PASS}`).toString("base64")}`;
  const get = (path: string, withAuth = true) =>
    new Promise<{ status: number; text: string; type: string }>((resolve, reject) => {
      const req = request(
        new URL(path, bmc.url),
        { method: "GET", agent, headers: withAuth ? { Authorization: auth } : {} },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () =>
            resolve({
              status: res.statusCode ?? 0,
              text: Buffer.concat(chunks).toString("utf8"),
              type: String(res.headers["content-type"] ?? ""),
            }),
          );
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      req.end();
    });
  return { get, close: () => agent.destroy() };
}

/** Schema-invalid resources of a set of bodies (the schema walk's validator). */
function invalid(schemas: RedfishSchemas, bodies: ReadonlyMap<string, unknown>): string[] {
  const bad: string[] = [];
  for (const [path, body] of bodies) {
    const type = (body as Json)?.["@odata.type"];
    if (typeof type !== "string") {
      bad.push(`${path}: no @odata.type`);
      continue;
    }
    let file: string;
    try {
      file = RedfishSchemas.fileOf(type);
    } catch {
      bad.push(`${path}: malformed ${type}`);
      continue;
    }
    if (!schemas.has(file)) bad.push(`${path}: no schema ${file}`);
    else if (schemas.validate(file, body).length > 0) bad.push(`${path}: invalid (${file})`);
  }
  return bad;
}

describe.skipIf(!haveShared)("capture-backed BMC profiles serve their captures", () => {
  let lab: Lab;
  let schemas: RedfishSchemas;
  beforeAll(async () => {
    schemas = new RedfishSchemas(join(SHARED, "schemas"));
    lab = await startLab();
  }, 120_000);
  afterAll(async () => lab?.close());

  for (const profile of CAPTURE_BMC_PROFILES) {
    it(`${profile}: every captured resource is served as captured, and validates no worse`, async () => {
      const model = loadCaptureModel(profile);
      const { bmc } = await lab.bmc(profile, { backend: new FakeBackend(`cap-${profile}`, preinstalled()) });
      const http = getter(bmc, lab.pki.caPem);
      const capturedJson = new Map<string, unknown>();
      const servedJson = new Map<string, unknown>();
      const mismatches: string[] = [];
      try {
        for (const [path, res] of model.tree.resources) {
          const got = await http.get(path);
          if (res.kind !== "json") {
            if (got.status !== (res.kind === "raw" ? res.status : 200) || got.text !== res.text)
              mismatches.push(`${path}: ${got.status} ${got.text.slice(0, 60)}`);
            if (res.kind === "xml") expect(got.type).toContain("application/xml");
            continue;
          }
          if (got.status !== 200) {
            mismatches.push(`${path}: HTTP ${got.status}`);
            continue;
          }
          const body = JSON.parse(got.text) as Json;
          const etag = typeof res.body["@odata.etag"] === "string";
          try {
            expect(withoutOwned(body, etag)).toEqual(withoutOwned(res.body as Json, etag));
          } catch {
            mismatches.push(`${path}: body differs`);
          }
          capturedJson.set(path, res.body);
          servedJson.set(path, body);
        }
      } finally {
        http.close();
      }
      expect(mismatches).toEqual([]);
      expect(servedJson.size).toBeGreaterThan(80);
      const before = invalid(schemas, capturedJson);
      const after = invalid(schemas, servedJson);
      console.log(
        `${profile}: ${model.tree.resources.size} resources served; schema-invalid: capture ${before.length}, served ${after.length}`,
      );
      expect(after.length).toBeLessThanOrEqual(before.length);
      expect(after.filter((a) => !before.includes(a))).toEqual([]);
      // Powered on and booted, the resources the state machine owns still validate no worse.
      await bmc.powerOnAndWait();
      const owned = [model.dpu.path, ...(model.bootSlot ? [model.bootSlot.path] : [])];
      const live = new Map<string, unknown>();
      const http2 = getter(bmc, lab.pki.caPem);
      try {
        for (const p of owned) live.set(p, JSON.parse((await http2.get(p)).text));
      } finally {
        http2.close();
      }
      const liveBad = invalid(schemas, live);
      expect(liveBad.filter((a) => !before.includes(a))).toEqual([]);
    }, 120_000);
  }
});
