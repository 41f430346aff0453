import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { closeAllPools, discover, RedfishClient } from "../../provider/redfish";
import { type EditedMockup, serveEditedMockup } from "./edited-mockup";
import { mockupsAvailable, SHARED_MOCKUPS } from "./mockup-server";

/**
 * `$expand=.($levels=1)` in discovery (issue 15), on the public-tower capture, whose service root advertises
 * ExpandQuery (NoLinks, Levels): expanded members are used as reads; a service that ignores the query or
 * refuses it still gets discovered, member by member.
 */
const have = mockupsAvailable();
const SYS = "/redfish/v1/Systems/437XR1238R2";

function client(url: string): RedfishClient {
  return new RedfishClient({
    endpoint: url,
    username: "admin",
    password: "tower-pass-1",
    auth: "basic",
    retryAttempts: 1,
    retryBaseDelayMs: 10,
  });
}

function captured(path: string): Record<string, unknown> {
  const file = join(SHARED_MOCKUPS, "public-tower", path.slice("/redfish/v1".length), "index.json");
  return JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
}

describe.skipIf(!have)("discovery with $expand (public-tower capture)", () => {
  let srv: EditedMockup | undefined;
  afterEach(async () => {
    await srv?.close();
    srv = undefined;
    await closeAllPools();
  });

  it("an expanded systems collection is the system's read: the system is not read again", async () => {
    srv = await serveEditedMockup("public-tower", {
      handlers: {
        "GET /redfish/v1/Systems": (req) => {
          const body = captured("/redfish/v1/Systems");
          if (!(req.url ?? "").includes("$expand=.($levels=1)")) return { status: 200, body };
          return { status: 200, body: { ...body, Members: [captured(SYS)] } };
        },
      },
    });
    const c = client(srv.url);
    const caps = await discover(c);
    expect(caps.systemPath).toBe(SYS);
    expect(caps.reset.target).toBeDefined();
    expect(srv.log).toContain("GET /redfish/v1/Systems");
    expect(srv.log).not.toContain(`GET ${SYS}`);
    await c.close();
  });

  it("a service that ignores $expand, or refuses it (400), is discovered member by member, the same", async () => {
    srv = await serveEditedMockup("public-tower");
    const c1 = client(srv.url);
    const ignored = await discover(c1);
    await c1.close();
    expect(srv.log).toContain(`GET ${SYS}`);
    await srv.close();
    srv = await serveEditedMockup("public-tower", {
      handlers: {
        "GET /redfish/v1/Systems": (req) =>
          (req.url ?? "").includes("$expand")
            ? { status: 400, body: { error: { code: "Base.1.8.QueryNotSupported", message: "no $expand" } } }
            : { status: 200, body: captured("/redfish/v1/Systems") },
      },
    });
    const c2 = client(srv.url);
    const refused = await discover(c2);
    await c2.close();
    expect(refused.systemPath).toBe(ignored.systemPath);
    expect(refused.methods).toEqual(ignored.methods);
    expect(refused.virtualMedia.chosen?.path).toBe(ignored.virtualMedia.chosen?.path);
    expect(srv.log.filter((l) => l === "GET /redfish/v1/Systems").length).toBe(2);
  });
});
