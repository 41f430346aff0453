import { rootCertificates } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dpuHost } from "../../provider";
import { setLogSink } from "../../provider/log";
import { closeAllPools } from "../../provider/redfish";
import type { DpuHostInputs, DpuHostOutputs } from "../../provider/resources/dpu-host";
import { sshPool } from "../../provider/ssh";
import { type Lab, startLab } from "../../simulator";
import { inputsFor, labAvailable } from "../dpu-host/helpers";

// Issue 12, items 6 (URL credentials, short secrets) and 11 (caCert): what a careless user gives DpuHost.
//  - a garbage caCert passed check() and failed at connect time with a bare SELF_SIGNED_CERT_IN_CHAIN;
//  - credentials in image.url (`http://user:pass@…`) reached logs, errors and installedImage.url in state, and a
//    short password (under 4 characters) was never redacted.

const GARBAGE_PEM = "-----BEGIN CERTIFICATE-----\nnot base64 at all !!\n-----END CERTIFICATE-----\n";
const URL_USER = "dpu-fetch";
const URL_PASS = "Zq"; // short on purpose: under the old 4-character redaction floor

async function check(news: unknown) {
  const check = dpuHost.check;
  if (!check) throw new Error("dpuHost has no check");
  return check({}, news);
}

describe("DpuHost credentials and certificates (no lab)", () => {
  const base = {
    bmc: { endpoint: "https://127.0.0.1:1", username: "admin", password: "pw-12345" },
    image: { url: "http://127.0.0.1:1/a.iso" },
  };

  it("check() refuses a caCert that is not a parsable PEM certificate, naming the field", async () => {
    const res = await check({ ...base, bmc: { ...base.bmc, caCert: GARBAGE_PEM } });
    expect(res.failures).toEqual([
      {
        property: "bmc.caCert",
        reason: expect.stringMatching(/^bmc\.caCert is not a valid PEM certificate/),
      },
    ]);
    const noBlock = await check({ ...base, image: { ...base.image, caCert: "hello" } });
    expect(noBlock.failures).toEqual([
      {
        property: "image.caCert",
        reason: expect.stringMatching(/^image\.caCert is not a valid PEM certificate/),
      },
    ]);
  });

  it("check() refuses credentials in bmc.endpoint (they would be ignored) and says where they go", async () => {
    const res = await check({ ...base, bmc: { ...base.bmc, endpoint: "https://admin:pw@127.0.0.1:1" } });
    expect(res.failures).toEqual([
      {
        property: "bmc.endpoint",
        reason: expect.stringMatching(/must not carry credentials.*bmc\.password/),
      },
    ]);
  });

  it("check() accepts a real PEM certificate and a bundle of them", async () => {
    const bundle = `${rootCertificates[0]}\n${rootCertificates[1]}\n`;
    expect((await check({ ...base, bmc: { ...base.bmc, caCert: rootCertificates[0] } })).failures).toEqual(
      [],
    );
    expect((await check({ ...base, bmc: { ...base.bmc, caCert: bundle } })).failures).toEqual([]);
  });

  it("an unreachable image URL with credentials: the error shows neither the user:password nor a short password", async () => {
    const lines: string[] = [];
    const restore = setLogSink((_l, line) => lines.push(line));
    try {
      const news = (await check({
        ...base,
        image: { url: `http://${URL_USER}:${URL_PASS}@127.0.0.1:1/dpu-os.iso`, sha256: "a".repeat(64) },
      })) as { inputs: DpuHostInputs };
      const err = (await dpuHost.create?.(news.inputs).catch((e: unknown) => e)) as Error;
      expect(err).toBeInstanceOf(Error);
      expect(err.message).toContain("verify image http://127.0.0.1:1/dpu-os.iso");
      for (const text of [err.message, String(err.stack), ...lines]) {
        expect(text).not.toContain(`${URL_USER}:${URL_PASS}`);
        expect(text).not.toMatch(new RegExp(`\\b${URL_PASS}\\b`));
      }
    } finally {
      restore();
    }
  });
});

const have = labAvailable();

describe.skipIf(!have)("DpuHost credentials and certificates against the lab", () => {
  let lab: Lab;
  const lines: string[] = [];
  let restore: () => void;

  beforeAll(async () => {
    restore = setLogSink((_l, line) => lines.push(line));
    lab = await startLab({ count: 1, profile: "generic", bootTimeMs: 300 });
  }, 180_000);

  afterAll(async () => {
    restore?.();
    await sshPool.closeAll();
    await closeAllPools();
    await lab?.stop();
  }, 120_000);

  it("a caCert that is not the BMC's CA fails fast with a TLS error naming the BMC, caCert and insecureSkipVerify", async () => {
    const news = inputsFor(lab.endpoints, 0, "dpu-os-1.1.iso", { ssh: false });
    const wrongCa: DpuHostInputs = { ...news, bmc: { ...news.bmc, caCert: rootCertificates[0] } };
    const started = Date.now();
    const err = (await dpuHost.create?.(wrongCa).catch((e: unknown) => e)) as Error;
    const bmcUrl = new URL(news.bmc.endpoint).origin;
    expect(err.message).toContain(`TLS verification of BMC ${bmcUrl} failed (`);
    expect(err.message).toMatch(/bmc\.caCert/);
    expect(err.message).toMatch(/insecureSkipVerify/);
    // Not retried: a refused certificate does not heal (5 attempts with backoff took seconds).
    expect(Date.now() - started).toBeLessThan(3_000);
  }, 60_000);

  it("an https image server whose certificate is not trusted: the error names image.caCert", async () => {
    const news = inputsFor(lab.endpoints, 0, "dpu-os-1.1.iso", { ssh: false });
    const origin = new URL(news.bmc.endpoint).origin; // any TLS server signed by the lab CA will do
    const err = (await dpuHost
      .create?.({ ...news, image: { ...news.image, url: `${origin}/x.iso`, caCert: rootCertificates[0] } })
      .catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/TLS verification of the image server failed \(\w+\): set image\.caCert/);
  }, 60_000);

  it("credentials in image.url never reach the logs or installedImage.url; the install still works", async () => {
    const news = inputsFor(lab.endpoints, 0, "dpu-os-1.1.iso");
    const u = new URL(news.image.url);
    u.username = URL_USER;
    u.password = URL_PASS;
    const withCreds: DpuHostInputs = { ...news, image: { ...news.image, url: u.href } };
    lines.length = 0;
    const outs = (await dpuHost.create?.(withCreds))?.outs as DpuHostOutputs;
    expect(outs.installedImage?.sha256).toBe(news.image.sha256);
    expect(outs.installedImage?.url).toBe(news.image.url); // the URL without userinfo
    const { image: _inputEcho, ...observed } = outs;
    expect(JSON.stringify(observed)).not.toContain(URL_USER);
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) {
      expect(line).not.toContain(`${URL_USER}:${URL_PASS}`);
      expect(line).not.toMatch(new RegExp(`\\b${URL_PASS}\\b`));
    }
  }, 120_000);
});
