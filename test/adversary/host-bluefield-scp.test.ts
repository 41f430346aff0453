import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dpuHost } from "../../provider";
import { setLogSink } from "../../provider/log";
import { closeAllPools } from "../../provider/redfish";
import type { DpuHostOutputs } from "../../provider/resources/dpu-host";
import { pinnedFingerprint } from "../../provider/ssh/fingerprint";
import type { BmcProfileName, SimBmc } from "../../simulator/contracts";
import { generateEd25519KeyPair } from "../../simulator/dpu/ssh-keys";
import { type ScpImageServer, startScpImageServer } from "../../simulator/images";
import { authorizeBmcForScp } from "../conformance/scp-images";
import { FakeBackend, preinstalled } from "../sim-bmc/fake-backend";
import { type Lab, PASS, sharedAvailable, startLab, USER } from "../sim-bmc/harness";

/**
 * BFB over SCP on the SCP-only BlueField BMC profiles (issue 17, items 1 and 8), through the public runtime
 * (`dpuHost`). The simulated BMC pulls the BFB with OpenSSH's real `scp` from a real sshd, and only after the
 * key exchange NVIDIA documents ("Deploying Software Using BFB" › "Setting Up Secure Connection"): the BMC is
 * given the server's host key through `NvidiaUpdateService.PublicKeyExchange`, answers its own key, and that key
 * must be in the server's authorized_keys. The oracle for the refusals is OpenSSH itself (its words reach the
 * BMC task, and from there the error).
 */
const SKIP = !sharedAvailable();
const BFB = "bf-bundle-4.10.bfb";
const SCP_PASSWORD = "scp-Pa55word-never-shown";

describe.skipIf(SKIP)("DpuHost: BFB over SCP with the BlueField key exchange", () => {
  let lab: Lab;
  let scp: ScpImageServer;
  const lines: string[] = [];
  let restoreSink: (() => void) | undefined;
  const bmc = async (p: BmcProfileName): Promise<{ b: SimBmc; backend: FakeBackend }> => {
    const backend = new FakeBackend(`scp-${p}-${Date.now()}`, preinstalled());
    const { bmc: b } = await lab.bmc(p, { backend });
    await b.powerOnAndWait();
    return { b, backend };
  };
  const scpUrl = (): string => `scp://${scp.host}:${scp.port}${join(scp.dir, BFB)}`;
  const news = (b: SimBmc, image: Record<string, unknown>): Record<string, unknown> => ({
    bmc: {
      endpoint: b.url,
      username: USER,
      password: PASS,
      caCert: lab.pki.caPem,
      retryBaseDelayMs: 10,
      retryAttempts: 2,
    },
    image: { url: scpUrl(), username: "root", timeoutMs: 20_000, ...image },
    ready: { timeoutMs: 20_000 },
  });
  const create = async (props: Record<string, unknown>): Promise<{ id: string; outs: DpuHostOutputs }> => {
    const checked = await dpuHost.check?.({}, props);
    expect(checked?.failures ?? []).toEqual([]);
    return (await dpuHost.create?.(checked?.inputs)) as { id: string; outs: DpuHostOutputs };
  };
  /** The operator's step of NVIDIA's "Setting Up Secure Connection", by hand (see authorizeBmcForScp). */
  const authorizeBmc = async (b: SimBmc): Promise<void> => {
    const key = await authorizeBmcForScp(
      { url: b.url, username: USER, password: PASS, ca: lab.pki.caPem },
      scp,
    );
    expect(key).toMatch(/^ssh-ed25519 \S+ root@dpu-bmc$/);
  };
  const bfbLabel = (): string => {
    const f = lab.files.find((x) => x.name === BFB);
    if (!f?.label) throw new Error(`lab has no ${BFB}`);
    return f.label;
  };

  beforeAll(async () => {
    lab = await startLab();
    scp = await startScpImageServer();
    copyFileSync(join(lab.dir, "images", BFB), join(scp.dir, BFB));
    restoreSink = setLogSink((_level, line) => lines.push(line));
  }, 60_000);
  afterAll(async () => {
    restoreSink?.();
    await closeAllPools();
    await scp?.close();
    await lab?.close();
  });

  it("capture-bluefield: the first up exchanges keys, and the BMC's scp refuses until its key is authorized (OpenSSH's words, the BMC key named); after the operator adds it, the BFB installs", async () => {
    const { b, backend } = await bmc("capture-bluefield");
    scp.revokeAll();
    const err = await create(news(b, { scpHostKey: scp.hostKey })).catch((e: unknown) => e);
    const text = String(err);
    // OpenSSH's own refusal, through the BMC task, and the documented remedy with the BMC's key.
    expect(text).toMatch(/Permission denied \(publickey\)/);
    const key = /add "(ssh-ed25519 \S+ root@dpu-bmc)" to that user's ~\/\.ssh\/authorized_keys/.exec(
      text,
    )?.[1];
    expect(key).toBeDefined();
    expect(backend.installedImage()?.label).not.toBe(bfbLabel());
    // The operator follows the error: the BMC's key goes into the server's authorized_keys.
    scp.authorize(key as string);
    const created = await create(news(b, { scpHostKey: scp.hostKey }));
    expect(created.outs.installedImage?.method).toBe("simpleUpdate");
    expect(backend.installedImage()?.label).toBe(bfbLabel());
    const seen = await dpuHost.read?.(created.id, created.outs);
    const props = seen?.props as DpuHostOutputs;
    expect(props.installedImage?.url).toBe(scpUrl());
    expect(props.powerState).toBe("On");
  });

  it("quirk-bluefield-old: a SHA256 pin is checked against the server before the exchange; image.password is never sent nor shown (the BMC's SCP is key-based)", async () => {
    const { b, backend } = await bmc("quirk-bluefield-old");
    await authorizeBmc(b);
    lines.length = 0;
    const created = await create(
      news(b, { scpHostKey: pinnedFingerprint(scp.hostKey), password: SCP_PASSWORD }),
    );
    expect(backend.installedImage()?.label).toBe(bfbLabel());
    const seen = await dpuHost.read?.(created.id, created.outs);
    expect(seen?.props).toMatchObject({ installedImage: { method: "simpleUpdate" } });
    expect(lines.join("\n")).toMatch(/pinned by image\.scpHostKey/);
    expect(lines.join("\n")).toMatch(/image\.password not sent/);
    expect(lines.join("\n")).not.toContain(SCP_PASSWORD);
  });

  it("no pin: preview says the server's key will be trusted on first use, and the install logs the key it trusted", async () => {
    const { b, backend } = await bmc("capture-bluefield");
    await authorizeBmc(b);
    lines.length = 0;
    // Preview (check) says it first, before anything is read from the server or the BMC.
    const checked = await dpuHost.check?.({}, news(b, {}));
    expect(lines.join("\n")).toMatch(/image\.scpHostKey is unset: .* TRUSTED ON FIRST USE/);
    await dpuHost.create?.(checked?.inputs);
    expect(backend.installedImage()?.label).toBe(bfbLabel());
    expect(lines.join("\n")).toMatch(/host key SHA256:\S+ TRUSTED ON FIRST USE/);
  });

  it("a wrong pinned key line reaches the BMC, whose scp refuses the server (Host key verification failed); a wrong fingerprint is refused before anything is sent", async () => {
    // Host keys are checked before authentication: the BMC's own key does not matter here.
    const { b, backend } = await bmc("quirk-bluefield-old");
    const other = generateEd25519KeyPair("not-the-server").publicKey;
    const err = await create(news(b, { scpHostKey: other, password: SCP_PASSWORD })).catch((e: unknown) => e);
    expect(String(err)).toMatch(/Host key verification failed/);
    expect(String(err)).not.toContain(SCP_PASSWORD);
    expect(backend.installedImage()?.label).not.toBe(bfbLabel());
    const before = b.snapshot().requests;
    const err2 = await create(news(b, { scpHostKey: pinnedFingerprint(other) })).catch((e: unknown) => e);
    expect(String(err2)).toMatch(/offers host key SHA256:\S+, not the pinned image\.scpHostKey/);
    expect(String(err2)).toMatch(/nothing was sent to the BMC/);
    const after = b.snapshot().requests;
    // GETs and at most the login POST: no exchange, no SimpleUpdate.
    expect((after.POST ?? 0) - (before.POST ?? 0)).toBeLessThanOrEqual(1);
    expect((after.PATCH ?? 0) - (before.PATCH ?? 0)).toBe(0);
  });
});

describe.skipIf(SKIP)("DpuHost: an ISO on a BlueField BMC (SimpleUpdate installs BFB bundles only)", () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await startLab();
  }, 60_000);
  afterAll(async () => {
    await closeAllPools();
    await lab?.close();
  });

  it("quirk-bluefield-new: an .iso is refused before any request that changes state (it was handed to SimpleUpdate and failed in the BMC task)", async () => {
    const { bmc: b } = await lab.bmc("quirk-bluefield-new", {
      backend: new FakeBackend("iso-on-bluefield", preinstalled()),
    });
    await b.powerOnAndWait();
    const before = b.snapshot();
    const props = {
      bmc: { endpoint: b.url, username: USER, password: PASS, caCert: lab.pki.caPem, retryBaseDelayMs: 10 },
      image: { url: lab.url("dpu-os-1.1.iso"), timeoutMs: 20_000 },
      ready: { timeoutMs: 20_000 },
    };
    const checked = await dpuHost.check?.({}, props);
    const err = await dpuHost.create?.(checked?.inputs).catch((e: unknown) => e);
    expect(String(err)).toMatch(/no install method fits: .*simpleUpdate: .*BFB/);
    const after = b.snapshot();
    expect((after.requests.POST ?? 0) - (before.requests.POST ?? 0)).toBeLessThanOrEqual(1); // the login only
    expect((after.requests.PATCH ?? 0) - (before.requests.PATCH ?? 0)).toBe(0);
    expect(after.installedImage?.url).toBe(before.installedImage?.url);
  });
});
