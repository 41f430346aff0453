import { describe, expect, it } from "vitest";
import { diffInputs } from "../../provider/lifecycle";
import { type SecretSink, walkSecrets } from "../../provider/lifecycle/field-meta";
import {
  DPU_HOST_INPUT_KEYS,
  DPU_HOST_SECRET_INPUTS,
  DpuHostInputsSchema,
  dpuHostFieldRules,
} from "../../provider/resources/dpu-host.schema";
import {
  DPU_UNDERLAY_INPUT_KEYS,
  DPU_UNDERLAY_SECRET_INPUTS,
  DpuUnderlayInputsSchema,
  dpuUnderlayFieldRules,
} from "../../provider/resources/dpu-underlay.schema";
import {
  DPU_WORKLOAD_SECRET_INPUTS,
  DpuWorkloadInputsSchema,
  dpuWorkloadFieldRules,
} from "../../provider/resources/dpu-workload.schema";
import { SSH_SECRET_FIELDS } from "../../provider/ssh/connection-schema";
import { HOST_KEY_PATTERN } from "../../provider/ssh/host-key-pattern";

// Field metadata is declared once, with `.meta()` on the zod input schemas; the secret lists, the diff rules and
// the redaction walk derive from it. These are the lists and rules that were written by hand before the
// derivation: a field that loses (or wrongly gains) its metadata changes one of them.

const sorted = (xs: readonly string[] | undefined) => [...(xs ?? [])].sort();
const CONNECTION_NO_OP = [
  "connection.dialAttempts",
  "connection.dialTimeoutMs",
  "connection.hostKey",
  "connection.jumpHosts",
  "connection.keepaliveIntervalMs",
  "connection.passphrase",
  "connection.password",
  "connection.privateKey",
  "connection.sudo",
  "connection.username",
];
const CONNECTION_SECRETS = [
  "connection.jumpHosts",
  "connection.passphrase",
  "connection.password",
  "connection.privateKey",
];

describe("field metadata: derived secret lists and diff rules", () => {
  it("DpuHost", () => {
    expect(sorted(DPU_HOST_SECRET_INPUTS)).toEqual([
      "bmc.password",
      "host.password",
      "identity.files",
      "identity.password.hash",
      "image.password",
      "ready.ssh.privateKey",
      "stage.password",
      "stage.privateKey",
    ]);
    expect(sorted(dpuHostFieldRules.replaceOnChanges)).toEqual(["bmc.endpoint", "bmc.systemId"]);
    expect(sorted(dpuHostFieldRules.noHardwareAction)).toEqual(
      sorted([
        "bmc.username",
        "bmc.password",
        "bmc.caCert",
        "bmc.insecureSkipVerify",
        "bmc.auth",
        "bmc.requestTimeoutMs",
        "bmc.retryAttempts",
        "bmc.retryBaseDelayMs",
        "bmc.virtualMediaId",
        "image.username",
        "image.password",
        "image.caCert",
        "image.timeoutMs",
        "image.scpHostKey",
        "image.platform",
        "image.expectFirmware",
        "image.applyTime",
        "image.activate",
        "ready",
        "owner",
        "stage",
        // The host server's BMC and policy: how a needed power cycle is done, nothing on the DPU itself.
        "host.endpoint",
        "host.systemId",
        "host.username",
        "host.password",
        "host.caCert",
        "host.insecureSkipVerify",
        "host.policy",
        "host.timeoutMs",
      ]),
    );
    expect(dpuHostFieldRules.deleteBeforeReplace).toBe(true);
    expect(sorted(DPU_HOST_INPUT_KEYS)).toEqual(
      sorted([
        "bmc",
        "image",
        "ready",
        "power",
        "ejectAfterInstall",
        "owner",
        "identity",
        "stage",
        "mode",
        "host",
      ]),
    );
  });

  it("DpuUnderlay", () => {
    expect(sorted(DPU_UNDERLAY_SECRET_INPUTS)).toEqual(CONNECTION_SECRETS);
    expect(sorted(dpuUnderlayFieldRules.replaceOnChanges)).toEqual(["connection.host", "connection.port"]);
    expect(sorted(dpuUnderlayFieldRules.noHardwareAction)).toEqual(
      sorted([...CONNECTION_NO_OP, "safety", "owner"]),
    );
    expect(dpuUnderlayFieldRules.deleteBeforeReplace).toBe(false);
    expect(sorted(DPU_UNDERLAY_INPUT_KEYS)).toEqual(
      sorted(["connection", "hostname", "dns", "interfaces", "routes", "persist", "safety", "owner"]),
    );
  });

  it("DpuWorkload", () => {
    expect(sorted(DPU_WORKLOAD_SECRET_INPUTS)).toEqual(sorted([...CONNECTION_SECRETS, "secretEnv"]));
    expect(sorted(dpuWorkloadFieldRules.replaceOnChanges)).toEqual(
      sorted(["name", "runtime", "connection.host", "connection.port"]),
    );
    expect(sorted(dpuWorkloadFieldRules.noHardwareAction)).toEqual(sorted([...CONNECTION_NO_OP, "owner"]));
    expect(dpuWorkloadFieldRules.deleteBeforeReplace).toBe(true);
  });

  it("SSH endpoint secret fields", () => {
    expect(sorted(SSH_SECRET_FIELDS)).toEqual(["passphrase", "password", "privateKey"]);
  });

  it("a jump host's endpoint change is an update, not a replacement (host/port replace only at the top)", () => {
    const conn = (jumpHost: string) => ({
      host: "dpu-1",
      port: 22,
      jumpHosts: [{ host: jumpHost, port: 22, password: "pw" }],
    });
    const d = diffInputs(
      { connection: conn("bastion-a") },
      { connection: conn("bastion-b") },
      ["connection"],
      dpuUnderlayFieldRules,
    );
    expect(d.changes).toBe(true);
    expect(d.replaces).toEqual([]);
  });
});

describe("field metadata: one redaction walk", () => {
  function collect(schema: Parameters<typeof walkSecrets>[0], value: unknown) {
    const secrets: string[] = [];
    const urls: string[] = [];
    const sink: SecretSink = { secret: (v) => secrets.push(v), url: (v) => urls.push(v) };
    walkSecrets(schema, value, sink);
    return { secrets: secrets.sort(), urls: urls.sort() };
  }

  it("DpuHost: passwords, the probe key, and the URLs with credentials", () => {
    const got = collect(DpuHostInputsSchema, {
      bmc: { endpoint: "https://bmc", username: "admin", password: "bmc-pw" },
      image: { url: "scp://u:img-pw@h/x.bfb", password: "image-pw" },
      ready: { ssh: { host: "dpu", privateKey: "KEY" } },
    });
    expect(got.secrets).toEqual(["KEY", "bmc-pw", "image-pw"]);
    expect(got.urls).toEqual(["https://bmc", "scp://u:img-pw@h/x.bfb"]);
  });

  it("DpuWorkload: connection and jump-host credentials, secretEnv, secret artifacts only, URLs", () => {
    const got = collect(DpuWorkloadInputsSchema, {
      connection: {
        host: "dpu",
        username: "ops",
        privateKey: "K1",
        jumpHosts: [{ host: "bastion", username: "j", password: "jump-pw", passphrase: "pp" }],
      },
      secretEnv: { TOKEN: "tok-value" },
      env: { PLAIN: "plain-value" },
      artifacts: [
        { source: { content: "secret-content" }, destination: "/a", secret: true },
        { source: { content: "plain-content" }, destination: "/b" },
        { source: { url: "https://x/y?sig=abc" }, destination: "/c" },
        { source: { path: "/local/file" }, destination: "/d", secret: true },
      ],
      health: { httpUrl: "http://u:p@127.0.0.1/" },
    });
    expect(got.secrets).toEqual(["K1", "jump-pw", "pp", "secret-content", "tok-value"].sort());
    expect(got.urls).toEqual(["http://u:p@127.0.0.1/", "https://x/y?sig=abc"]);
  });

  it("DpuUnderlay: credentials of the connection and its jump hosts, not their host names", () => {
    const got = collect(DpuUnderlayInputsSchema, {
      connection: { host: "dpu", password: "pw-1", jumpHosts: [{ host: "bastion", privateKey: "K2" }] },
      hostname: "dpu-1",
    });
    expect(got).toEqual({ secrets: ["K2", "pw-1"], urls: [] });
  });

  it("tolerates partial and ill-typed inputs", () => {
    expect(
      collect(DpuWorkloadInputsSchema, { connection: "nope", artifacts: [null, 3], secretEnv: [] }),
    ).toEqual({
      secrets: [],
      urls: [],
    });
    expect(collect(DpuHostInputsSchema, undefined)).toEqual({ secrets: [], urls: [] });
  });
});

describe("host-key pattern: one definition", () => {
  it("accepts fingerprints and key lines, refuses others", () => {
    expect(HOST_KEY_PATTERN.test(`SHA256:${"A".repeat(43)}`)).toBe(true);
    expect(HOST_KEY_PATTERN.test("ssh-ed25519 AAAAC3Nza comment")).toBe(true);
    expect(HOST_KEY_PATTERN.test("md5:00:11")).toBe(false);
  });
});
