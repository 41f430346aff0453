/**
 * UpdateService push updates (HttpPushUri, MultipartHttpPushUri) on the capture-backed profiles that advertise
 * them, driven by curl: the client NVIDIA's BlueField BMC documentation uses for both (`-T` with
 * `Content-Type: application/octet-stream` to `/redfish/v1/UpdateService/update`; `-F UpdateParameters=…;type=
 * application/json -F UpdateFile=@…` to `/update-multipart`). curl frames the body (its own multipart encoder),
 * not this project. The installed community.general (6.6.2) has no MultipartHTTPPushUpdate command and sushy
 * 4.3.x only reads HttpPushUri, so neither can push.
 */
import { createHash } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SimBmc } from "../../simulator/contracts";
import { run } from "../oracles/run-clients";
import { FakeBackend, preinstalled } from "./fake-backend";
import { type Lab, PASS, type Res, rf, sharedAvailable, startLab, USER, waitFor } from "./harness";

const haveShared = sharedAvailable();
const DPU_OS = "/redfish/v1/UpdateService/FirmwareInventory/DPU_OS";

/** What curl got: status, headers (lower-case names) and body. */
interface CurlRes {
  readonly status: number;
  readonly location?: string;
  readonly json: { error?: { "@Message.ExtendedInfo": { MessageId: string }[] } } & Record<string, unknown>;
}

describe.skipIf(!haveShared)("UpdateService push updates (curl as the client)", () => {
  let lab: Lab;
  let curlConfig: string;
  beforeAll(async () => {
    lab = await startLab();
    // Credentials and CA in a curl config file (0600): never on curl's argv.
    curlConfig = join(lab.dir, "curl.cfg");
    await writeFile(curlConfig, `user = "${USER}:${PASS}"\ncacert = "${lab.pki.caFile}"\n`, { mode: 0o600 });
  }, 60_000);
  afterAll(async () => {
    await lab?.close();
  });

  const file = (name: string) => join(lab.dir, "images", name);
  const sha = async (name: string) =>
    createHash("sha256")
      .update(await readFile(file(name)))
      .digest("hex");

  async function curl(bmc: SimBmc, path: string, args: readonly string[]): Promise<CurlRes> {
    const r = await run(
      "curl",
      ["-sS", "-K", curlConfig, "-D", "-", "-X", "POST", ...args, new URL(path, bmc.url).href],
      { PATH: process.env.PATH ?? "/usr/bin:/bin" },
      30_000,
    );
    if (r.code !== 0) throw new Error(`curl exit ${r.code}: ${r.stderr}`);
    // -D - prints every response head (a 100 Continue first, for large uploads), then the body.
    const heads = r.stdout.split("\r\n\r\n");
    const body = heads.pop() ?? "";
    const last = heads.filter((h) => /^HTTP\//.test(h)).pop() ?? "";
    const status = Number(/^HTTP\/\S+ (\d{3})/.exec(last)?.[1] ?? 0);
    const location = /^location:\s*(.+)$/im.exec(last)?.[1]?.trim();
    let json: CurlRes["json"] = {};
    try {
      json = body ? JSON.parse(body) : {};
    } catch {
      json = { text: body };
    }
    return { status, ...(location ? { location } : {}), json };
  }

  const pushOctets = (bmc: SimBmc, uri: string, name: string) =>
    curl(bmc, uri, ["-H", "Content-Type: application/octet-stream", "-T", file(name)]);
  const pushMultipart = (bmc: SimBmc, uri: string, name: string, params: Record<string, unknown>) =>
    curl(bmc, uri, [
      "-F",
      `UpdateParameters=${JSON.stringify(params)};type=application/json`,
      "-F",
      `UpdateFile=@${file(name)};type=application/octet-stream`,
    ]);

  async function taskEnd(bmc: SimBmc, monitor: string | undefined): Promise<Res> {
    expect(monitor, "202 Location (task monitor)").toBeDefined();
    return (await waitFor(async () => {
      const t = await rf(bmc, lab.pki.caPem, "GET", monitor as string);
      return t.status !== 202 ? t : undefined;
    }, "push-update task")) as Res;
  }

  const messageId = (r: CurlRes) => r.json.error?.["@Message.ExtendedInfo"][0]?.MessageId;

  async function bluefield(profile: "quirk-bluefield-new" | "capture-bluefield") {
    const backend = new FakeBackend(`push-${profile}-${Date.now()}`, preinstalled());
    const { bmc } = await lab.bmc(profile, { backend });
    await bmc.powerOnAndWait();
    const us = (await rf(bmc, lab.pki.caPem, "GET", "/redfish/v1/UpdateService")).json;
    return { bmc, backend, us };
  }

  it("quirk-bluefield-new: a multipart push of a BFB to MultipartHttpPushUri installs it at once and reboots", async () => {
    const { bmc, backend, us } = await bluefield("quirk-bluefield-new");
    expect(us.MultipartHttpPushUri).toBe("/redfish/v1/UpdateService/update-multipart");
    const r = await pushMultipart(bmc, us.MultipartHttpPushUri, "bf-bundle-4.10.bfb", {
      Targets: [DPU_OS],
      "@Redfish.OperationApplyTime": "Immediate",
    });
    expect(r.status, JSON.stringify(r.json)).toBe(202);
    expect((await taskEnd(bmc, r.location)).status).toBe(200);
    await waitFor(
      () => backend.running() && backend.installedImage()?.label === "bf-bundle-4.10",
      "BFB booted",
    );
    expect(backend.installedImage()?.sha256).toBe(await sha("bf-bundle-4.10.bfb"));
    expect(backend.calls.filter((c) => c === "start").length).toBeGreaterThan(1);
  }, 60_000);

  it("capture-bluefield: an octet-stream push to HttpPushUri is applied at the advertised OnReset", async () => {
    const { bmc, backend, us } = await bluefield("capture-bluefield");
    expect(us.HttpPushUri).toBe("/redfish/v1/UpdateService/update");
    expect(us.HttpPushUriOptions.HttpPushUriApplyTime.ApplyTime).toBe("OnReset");
    const r = await pushOctets(bmc, us.HttpPushUri, "bf-bundle-4.9.bfb");
    expect(r.status, JSON.stringify(r.json)).toBe(202);
    expect((await taskEnd(bmc, r.location)).status).toBe(200);
    expect(backend.installedImage()?.label, "not applied before the reset").toBe("DPUOS_1_0");
    const reset = await rf(
      bmc,
      lab.pki.caPem,
      "POST",
      "/redfish/v1/Systems/Bluefield/Actions/ComputerSystem.Reset",
      {
        body: { ResetType: "ForceRestart" },
      },
    );
    expect(reset.status).toBe(200);
    await waitFor(
      () => backend.running() && backend.installedImage()?.label === "bf-bundle-4.9",
      "staged BFB booted",
    );
    expect(backend.installedImage()?.sha256).toBe(await sha("bf-bundle-4.9.bfb"));
  }, 60_000);

  it("refusals: an apply time the capture does not support, an unknown target, a JSON body, a corrupt image", async () => {
    const { bmc, backend, us } = await bluefield("quirk-bluefield-new");
    const onReset = await pushMultipart(bmc, us.MultipartHttpPushUri, "bf-bundle-4.9.bfb", {
      "@Redfish.OperationApplyTime": "OnReset",
    });
    expect(onReset.status).toBe(400);
    expect(messageId(onReset)).toMatch(/\.PropertyValueNotInList$/);
    const target = await pushMultipart(bmc, us.MultipartHttpPushUri, "bf-bundle-4.9.bfb", {
      Targets: ["/redfish/v1/UpdateService/FirmwareInventory/NoSuchThing"],
    });
    expect(target.status).toBe(400);
    expect(messageId(target)).toMatch(/\.PropertyValueNotInList$/);
    const noFile = await curl(bmc, us.MultipartHttpPushUri, [
      "-F",
      "UpdateParameters={};type=application/json",
    ]);
    expect(noFile.status).toBe(400);
    expect(messageId(noFile)).toMatch(/\.PropertyMissing$/);
    const json = await curl(bmc, us.HttpPushUri, ["-H", "Content-Type: application/json", "-d", "{}"]);
    expect(json.status).toBe(415);
    const corrupt = await pushOctets(bmc, us.HttpPushUri, "corrupt.iso");
    expect(corrupt.status).toBe(202);
    const end = await taskEnd(bmc, corrupt.location);
    expect(end.status).toBe(400);
    expect(JSON.stringify(end.json)).toMatch(/InvalidObject/);
    expect(backend.installedImage()?.label).toBe("DPUOS_1_0");
  }, 60_000);

  it("capture-rackmount1: an ISO pushed to its HttpPushUri (/FWUpdate, Immediate) is staged until the next reset", async () => {
    const backend = new FakeBackend(`push-rack-${Date.now()}`, preinstalled());
    const { bmc } = await lab.bmc("capture-rackmount1", { backend });
    const us = (await rf(bmc, lab.pki.caPem, "GET", "/redfish/v1/UpdateService")).json;
    expect(us.HttpPushUri).toBe("/FWUpdate");
    const r = await pushOctets(bmc, us.HttpPushUri, "dpu-os-2.0.iso");
    expect(r.status, JSON.stringify(r.json)).toBe(202);
    expect((await taskEnd(bmc, r.location)).status).toBe(200);
    await bmc.powerOnAndWait();
    expect(backend.installedImage()?.label).toBe("DPUOS_2_0");
    expect(backend.installedImage()?.sha256).toBe(await sha("dpu-os-2.0.iso"));
  }, 60_000);

  it("a profile that advertises no push URI serves none (hand-written bluefield)", async () => {
    const { bmc } = await lab.bmc("bluefield", {
      backend: new FakeBackend(`push-none-${Date.now()}`, preinstalled()),
    });
    const us = (await rf(bmc, lab.pki.caPem, "GET", "/redfish/v1/UpdateService")).json;
    expect(us.HttpPushUri).toBeUndefined();
    const r = await pushOctets(bmc, "/redfish/v1/UpdateService/update", "bf-bundle-4.9.bfb");
    expect(r.status).toBe(404);
  }, 60_000);
});
