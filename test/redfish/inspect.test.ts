import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { inspect } from "../../cli/inspect";
import { type MockupServer, mockupsAvailable, serveMockup } from "./mockup-server";

const have = mockupsAvailable();

async function run(args: string[]): Promise<{ code: number; out: string }> {
  let out = "";
  const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  try {
    process.env.INSPECT_TEST_PW = "mockup-password";
    const code = await inspect(args);
    return { code, out };
  } finally {
    spy.mockRestore();
  }
}

describe.skipIf(!have)("pulumi-dpu inspect against shared mockups", () => {
  const servers: Record<string, MockupServer> = {};
  beforeAll(async () => {
    servers.rack = await serveMockup("public-rackmount1");
    servers.bf = await serveMockup("nvidia-bluefield-bmc");
  });
  afterAll(async () => {
    await Promise.all(Object.values(servers).map((s) => s.close()));
  });

  it("prints a readable table: PATCH fallback slot, boot targets, recommended virtualMedia", async () => {
    const { code, out } = await run([
      "--endpoint",
      servers.rack!.url,
      "--username",
      "root",
      "--password-env",
      "INSPECT_TEST_PW",
    ]);
    expect(code).toBe(0);
    expect(out).toMatch(/Virtual media\s+under the system/);
    expect(out).toMatch(/slot CD1\s+CD\/DVD; PATCH fallback.*<- used/);
    expect(out).toMatch(/Boot targets\s+None, Pxe, Cd/);
    expect(out).toMatch(/Recommended\s+virtualMedia/);
    expect(out).not.toContain("mockup-password");
    expect(servers.rack!.requests.PATCH ?? 0).toBe(0);
  });

  it("--json on the BlueField capture: no virtual media, Settings object, SimpleUpdate recommended", async () => {
    const { code, out } = await run([
      "--endpoint",
      servers.bf!.url,
      "--username",
      "root",
      "--password-env",
      "INSPECT_TEST_PW",
      "--json",
    ]);
    expect(code).toBe(0);
    const caps = JSON.parse(out) as {
      virtualMedia: { location: string };
      boot: { settingsPath: string };
      recommended: string;
    };
    expect(caps.virtualMedia.location).toBe("none");
    expect(caps.boot.settingsPath).toBe("/redfish/v1/Systems/Bluefield/Settings");
    expect(["simpleUpdate", "uefiHttp"]).toContain(caps.recommended);
  });

  it("missing arguments exit 2 with usage", async () => {
    const err = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    try {
      expect((await run(["--endpoint", servers.rack!.url])).code).toBe(2);
    } finally {
      err.mockRestore();
    }
  });
});
