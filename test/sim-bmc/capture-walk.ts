import { Agent, request } from "node:https";
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import type { SimBmc } from "../../simulator/contracts";
import { type Lab, PASS, SHARED, startLab, USER } from "./harness";
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
  const auth = `Basic ${Buffer.from(`${USER}:${PASS}`).toString("base64")}`;
  const get = (path: string, withAuth = true) =>
    new Promise<GetReply>((resolve, reject) => {
      const req = request(
        new URL(path, bmc.url),
        { method: "GET", agent, headers: withAuth ? { Authorization: auth } : {} },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            let json: unknown;
            try {
              json = JSON.parse(text);
            } catch {
              json = undefined;
            }
            resolve({
              status: res.statusCode ?? 0,
              text,
              type: String(res.headers["content-type"] ?? ""),
              json,
            });
          });
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      req.end();
    });
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
