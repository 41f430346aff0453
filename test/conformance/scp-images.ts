import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Agent, request } from "undici";
import type { EndpointsFile } from "../../simulator/contracts";
import { type ScpImageServer, startScpImageServer } from "../../simulator/images";

type EndpointDpu = EndpointsFile["dpus"][number];

/** Where and how to log in to a BMC (HTTP Basic, CA PEM). */
export interface BmcLogin {
  readonly url: string;
  readonly username: string;
  readonly password: string;
  readonly ca: string;
}

/** An SCP image server (real sshd) holding `names`, copied from the lab's HTTP image server. */
export async function startScpImages(ep: EndpointsFile, names: readonly string[]): Promise<ScpImageServer> {
  const scp = await startScpImageServer();
  for (const name of names) {
    const f = ep.images.files.find((x) => x.name === name);
    if (!f) throw new Error(`lab has no image ${name}`);
    const res = await request(f.url);
    if (res.statusCode !== 200) throw new Error(`GET ${f.url}: HTTP ${res.statusCode}`);
    writeFileSync(join(scp.dir, name), Buffer.from(await res.body.arrayBuffer()));
  }
  return scp;
}

/** The `scp://` URL of `name` on `scp` (the BlueField ImageURI is built from it: `<ServerIP>/<BFBPath>`). */
export function scpUrl(scp: ScpImageServer, name: string): string {
  return `scp://${scp.host}:${scp.port}${join(scp.dir, name)}`;
}

/**
 * The operator's step of NVIDIA's "Setting Up Secure Connection" (BlueField BMC, "Deploying Software Using BFB"),
 * done once per BMC as the doc shows it with curl: PublicKeyExchange with the server's key, then the key the BMC
 * answers goes into the server's authorized_keys. Returns that key.
 */
export async function authorizeBmcForScp(bmc: BmcLogin, scp: ScpImageServer): Promise<string> {
  const res = await request(
    `${bmc.url}/redfish/v1/UpdateService/Actions/Oem/NvidiaUpdateService.PublicKeyExchange`,
    {
      method: "POST",
      headers: {
        authorization: `Basic ${Buffer.from(`${bmc.username}:${bmc.password}`).toString("base64")}`,
        "content-type": "application/json",
      },
      body: JSON.stringify({ RemoteServerIP: scp.host, RemoteServerKeyString: scp.hostKey }),
      dispatcher: new Agent({ connect: { ca: bmc.ca } }),
    },
  );
  const body = (await res.body.json()) as { "@Message.ExtendedInfo"?: { MessageArgs?: string[] }[] };
  const key = body["@Message.ExtendedInfo"]?.[0]?.MessageArgs?.[0];
  if (res.statusCode !== 200 || !key) {
    throw new Error(`PublicKeyExchange on ${bmc.url}: HTTP ${res.statusCode} ${JSON.stringify(body)}`);
  }
  scp.authorize(key);
  return key;
}

/** A lab DPU's BMC as {@link authorizeBmcForScp} logs in to it. */
export function bmcLoginOf(d: EndpointDpu): BmcLogin {
  return {
    url: d.bmc.url,
    username: d.bmc.username,
    password: d.bmc.password,
    ca: readFileSync(d.bmc.caCertFile, "utf8"),
  };
}
