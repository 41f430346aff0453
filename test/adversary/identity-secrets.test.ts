import type * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { DpuHost } from "../../sdk";
import { mockRegistrations, registered, secretOnPath } from "./sdk-mocks";

// The secret parts of a DPU identity, as a user declares them through the SDK class (the engine's view under
// mocks): the password hash, the extra files and the stage credentials are secret inputs, and the host key the
// provider generates is a secret output.

describe("DpuHost identity secrets (SDK)", () => {
  let seen: Map<string, Record<string, unknown>>;
  let secretOutputs: readonly string[] = [];

  beforeAll(async () => {
    seen = await mockRegistrations("dpu", "test");
    const capture: pulumi.ResourceTransformation = (a) => {
      secretOutputs = (a.opts as pulumi.CustomResourceOptions).additionalSecretOutputs ?? [];
      return undefined;
    };
    const host = new DpuHost(
      "dpu-0",
      {
        bmc: { endpoint: "https://bmc.lab" },
        image: { url: "http://images.lab/dpu-os.iso" },
        ready: { ssh: { host: "198.18.0.10" } },
        identity: {
          hostname: "dpu-0",
          authorizedKeys: [
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIL2U9ZiYtALDVNxAxJGF1JP4L8MPCKBM/ZpCTdGXAIzg op",
          ],
          management: { interface: "oob_net0", dhcp: true },
          password: { hash: "$6$saltsalt$abcdefghijklmnop" },
          files: [{ path: "/etc/agent/token", content: "tok-123456", secret: true }],
          hostKey: "generate",
        },
        stage: {
          kind: "httpPut",
          url: "https://stage.lab/images",
          username: "stager",
          password: "stage-password-1",
        },
      },
      { transformations: [capture] },
    );
    await registered([host]);
  });

  it("sends the password hash, the files and the stage password as secrets", () => {
    const inputs = seen.get("dpu-0") ?? {};
    expect(secretOnPath(inputs, ["identity", "password", "hash"])).toBe(true);
    expect(secretOnPath(inputs, ["identity", "files"])).toBe(true);
    expect(secretOnPath(inputs, ["stage", "password"])).toBe(true);
  });

  it("marks the generated host key a secret output", () => {
    expect(secretOutputs).toContain("identityHostKey");
  });
});
