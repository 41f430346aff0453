import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { DpuHost } from "../../sdk";
import { mockRegistrations, registered, secretOnPath } from "./sdk-mocks";

// Issue 14, design review 1: the SDK's secret marking derives from the provider schema's field metadata. The
// DpuHost `image.url` is declared `credentialUrl` (its userinfo is sent to the BMC as SimpleUpdate credentials);
// before the derivation only DpuWorkload's URLs were marked by hand, so `scp://user:password@…` was plain in
// state. Driven through the SDK class under mocks, as a program would.

describe("DpuHost: an image URL carrying credentials is secret in state", () => {
  let seen: Map<string, Record<string, unknown>>;

  beforeAll(async () => {
    seen = await mockRegistrations();
    const bmc = { endpoint: "https://10.0.0.5", username: "admin", password: "bmc-Passw0rd" };
    const resources = [
      new DpuHost("scp", { bmc, image: { url: "scp://builder:Img-Passw0rd@files.lab/os.bfb" } }),
      new DpuHost("later", {
        bmc,
        image: { url: pulumi.output("https://files.lab/os.iso?sig=SigSecret88") },
      }),
      new DpuHost("plain", { bmc, image: { url: "http://files.lab/os.iso" } }),
    ];
    await registered(resources);
  });

  it("marks image.url secret when it carries userinfo or a token, and only then", () => {
    expect(secretOnPath(seen.get("scp"), ["image", "url"])).toBe(true);
    expect(secretOnPath(seen.get("later"), ["image", "url"])).toBe(true);
    expect(secretOnPath(seen.get("plain"), ["image", "url"])).toBe(false);
    // The password stays secret, as before (the mocks may lift a secret leaf to its container).
    expect(secretOnPath(seen.get("plain"), ["bmc", "password"])).toBe(true);
  });
});
