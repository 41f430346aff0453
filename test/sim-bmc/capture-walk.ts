import { Agent } from "node:https";
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import type { SimBmc } from "../../simulator/contracts";
import { type Lab, rf, SHARED, startLab } from "./harness";
import { RedfishSchemas } from "./redfish-schemas";

type Json = Record<string, unknown>;

/** A GET's answer: status, body text, content type, and the body parsed as JSON (undefined when it is not). */
export interface GetReply {
  readonly status: number;
  readonly text: string;
  readonly type: string;
  readonly json: unknown;
}

/** Keep-alive GETs against one BMC (hundreds per capture), authenticated unless `withAuth` is false. */
export function keepAliveGetter(bmc: SimBmc, ca: string) {
  const agent = new Agent({ keepAlive: true, maxSockets: 4, ca });
  const get = async (path: string, withAuth = true): Promise<GetReply> => {
    const r = await rf(bmc, ca, "GET", path, {
      agent,
      auth: withAuth ? "basic" : "none",
      headers: { Accept: "*/*" },
    });
    return { status: r.status, text: r.text, type: String(r.headers["content-type"] ?? ""), json: r.json };
  };
  return { get, close: () => agent.destroy() };
}

/** Schema-invalid resources among `bodies` (the schema walk's validator), as `path: why` lines. */
export function invalidResources(schemas: RedfishSchemas, bodies: ReadonlyMap<string, unknown>): string[] {
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

/**
 * Inside a `describe`: a BMC test lab and the DMTF schemas, set up once for the block and closed after it.
 * Read them through the returned accessors (inside tests).
 */
export function useSchemaLab(): { lab(): Lab; schemas(): RedfishSchemas } {
  let lab: Lab | undefined;
  let schemas: RedfishSchemas | undefined;
  beforeAll(async () => {
    schemas = new RedfishSchemas(join(SHARED, "schemas"));
    lab = await startLab();
  }, 120_000);
  afterAll(async () => lab?.close());
  return {
    lab: () => {
      if (!lab) throw new Error("the BMC test lab is not started (use inside a test)");
      return lab;
    },
    schemas: () => {
      if (!schemas) throw new Error("the schemas are not loaded (use inside a test)");
      return schemas;
    },
  };
}
