import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { isSecret } from "../../engine/wire";
import { DpuWorkload } from "../../sdk";
import { mockRegistrations, registered, secretOnPath } from "./sdk-mocks";

// Review of issue 12 (DpuWorkload): URLs carrying credentials (userinfo, a signed-URL token) were plain in
// state, and the SDK recorded no owner. Driven through the SDK class under mocks, as a program would.

const connection = { host: "198.18.0.10", privateKey: "k".repeat(40) };

describe("the SDK marks credential-bearing URLs secret and records the owner", () => {
  let seen: Map<string, Record<string, unknown>>;

  beforeAll(async () => {
    seen = await mockRegistrations();
    const base = { connection, name: "agent", command: ["/opt/agent/run"] };
    const resources = [
      new DpuWorkload("signed", {
        ...base,
        artifacts: [{ source: { url: "http://u:p@files.lab/a?sig=SigSecret88" }, destination: "/opt/a" }],
        health: { httpUrl: "http://127.0.0.1:8080/health?token=T0ken" },
      }),
      new DpuWorkload("later", {
        ...base,
        artifacts: [
          {
            source: { url: pulumi.output("https://files.lab/c?X-Amz-Signature=abc") },
            destination: "/opt/c",
          },
        ],
      }),
      new DpuWorkload("plain", {
        ...base,
        artifacts: [{ source: { url: "https://files.lab/b.tar" }, destination: "/opt/b" }],
        health: { httpUrl: "http://127.0.0.1:8080/health" },
      }),
      new DpuWorkload("handed-over", { ...base, owner: "ops/prod/agent" }),
      // An owner spelt out as undefined (a program spreading an optional setting) still gets the default.
      new DpuWorkload("owner-undefined", { ...base, owner: undefined }),
    ];
    await registered(resources);
  });

  it("marks artifacts[].source.url and health.httpUrl secret when they carry userinfo or a token", () => {
    const url = ["artifacts", 0, "source", "url"];
    expect(secretOnPath(seen.get("signed"), url)).toBe(true);
    expect(secretOnPath(seen.get("later"), url)).toBe(true);
    expect(secretOnPath(seen.get("plain"), url)).toBe(false);
    expect(secretOnPath(seen.get("signed"), ["health", "httpUrl"])).toBe(true);
    expect(secretOnPath(seen.get("plain"), ["health", "httpUrl"])).toBe(false);
    // A credential in the URL does not make the content secret (its mode stays the default 0644).
    const open = (v: unknown): unknown => (isSecret(v) ? open(v.value) : v);
    const a0 = (open(seen.get("signed")?.artifacts) as Record<string, unknown>[])[0]!;
    expect(a0.secret).toBeUndefined();
  });

  it("sets owner to <project>/<stack>/<resource name> unless given", () => {
    expect(seen.get("plain")?.owner).toBe("proj/dev/plain");
    expect(seen.get("handed-over")?.owner).toBe("ops/prod/agent");
    expect(seen.get("owner-undefined")?.owner).toBe("proj/dev/owner-undefined");
  });
});
