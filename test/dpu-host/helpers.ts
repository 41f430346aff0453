import { readFileSync } from "node:fs";
import { RedfishClient } from "../../provider/redfish";
import type { DpuHostInputs, DpuHostOutputs } from "../../provider/resources/dpu-host";
import { DpuHostInputsSchema } from "../../provider/resources/dpu-host";
import type { EndpointsFile } from "../../simulator";
import { skipUnless } from "../capabilities";

/** True when the lab can run here (test/capabilities.ts `lab`). In CI its absence fails. */
export function labAvailable(): boolean {
  return !skipUnless("DpuHost lab tests", "lab");
}

/** Image info of the lab by file name. */
export function image(ep: EndpointsFile, name: string): { url: string; sha256: string; label?: string } {
  const f = ep.images.files.find((i) => i.name === name);
  if (!f) throw new Error(`lab has no image ${name}; has ${ep.images.files.map((i) => i.name).join(", ")}`);
  return { url: f.url, sha256: f.sha256, ...(f.label ? { label: f.label } : {}) };
}

/** DpuHost inputs for DPU `index` of the lab. */
export function inputsFor(
  ep: EndpointsFile,
  index: number,
  imageName: string,
  extra: {
    method?: "virtualMedia" | "uefiHttp" | "simpleUpdate";
    ssh?: boolean;
    ejectAfterInstall?: boolean;
    readyTimeoutMs?: number;
  } = {},
): DpuHostInputs {
  const d = ep.dpus[index];
  if (!d) throw new Error(`no DPU ${index}`);
  const img = image(ep, imageName);
  const ca = readFileSync(d.bmc.caCertFile, "utf8");
  return DpuHostInputsSchema.parse({
    bmc: {
      endpoint: d.bmc.url,
      username: d.bmc.username,
      password: d.bmc.password,
      caCert: ca,
      retryBaseDelayMs: 50,
    },
    image: {
      url: img.url,
      sha256: img.sha256,
      ...(extra.method ? { method: extra.method } : {}),
      timeoutMs: 60_000,
    },
    ready: {
      timeoutMs: extra.readyTimeoutMs ?? 45_000,
      ...(extra.ssh === false
        ? {}
        : {
            ssh: {
              host: d.ssh.host,
              port: d.ssh.port,
              username: d.ssh.username,
              privateKey: readFileSync(d.ssh.privateKeyFile, "utf8"),
            },
          }),
    },
    ...(extra.ejectAfterInstall !== undefined ? { ejectAfterInstall: extra.ejectAfterInstall } : {}),
  });
}

/** A Redfish client of DPU `index`'s BMC with HTTP Basic, acting behind Pulumi's back (an operator, a tool). */
export function bmcAdmin(ep: EndpointsFile, index: number): RedfishClient {
  const d = ep.dpus[index];
  if (!d) throw new Error(`no DPU ${index}`);
  return new RedfishClient({
    endpoint: d.bmc.url,
    username: d.bmc.username,
    password: d.bmc.password,
    caCert: readFileSync(d.bmc.caCertFile, "utf8"),
    auth: "basic",
  });
}

/** POSTs to the lab control API. */
export async function control(ep: EndpointsFile, path: string, body: unknown = {}): Promise<void> {
  const res = await fetch(`${ep.control.url}${path}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`control ${path}: HTTP ${res.status} ${await res.text()}`);
}

/** The inputs part of outputs (what the engine would pass as news after a no-op). */
export function inputsOf(o: DpuHostOutputs): DpuHostInputs {
  return {
    bmc: o.bmc,
    image: o.image,
    ready: o.ready,
    power: o.power,
    ejectAfterInstall: o.ejectAfterInstall,
  };
}
