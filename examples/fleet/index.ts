/**
 * A 3-DPU fleet against the pulumi-dpu simulator: each DPU gets an OS image (DpuHost), underlay addresses
 * on its data port (DpuUnderlay) and an agent (DpuWorkload), in that order (DpuNode).
 *
 * Stack-wide credentials come from the `dpu:` config namespace, so no resource repeats them:
 *   pulumi config set dpu:bmcUsername admin
 *   pulumi config set dpu:bmcCaCert -- "$(cat <lab>/pki/ca.pem)"
 *   pulumi config set --secret dpu:sshPrivateKey -- "$(cat <lab>/ssh/id_ed25519)"
 * Each BMC's own password is read from the endpoints file and marked secret.
 */
import * as fs from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { DpuNode } from "pulumi-dpu";

/** The part of the simulator's endpoints file this program reads. */
interface Endpoints {
  dpus: {
    name: string;
    bmc: { url: string; password: string };
    ssh: { host: string; port: number; username: string };
  }[];
  images: { files: { name: string; url: string; sha256: string }[] };
}

const config = new pulumi.Config();
const endpoints = JSON.parse(fs.readFileSync(config.require("endpointsFile"), "utf8")) as Endpoints;
const imageName = config.get("image") ?? "dpu-os-1.1.iso";
const image = endpoints.images.files.find((f) => f.name === imageName);
if (!image) throw new Error(`the lab serves no image ${imageName}`);

const nodes = endpoints.dpus.map(
  (d, i) =>
    new DpuNode(d.name, {
      host: {
        bmc: { endpoint: d.bmc.url, password: pulumi.secret(d.bmc.password) },
        image: { url: image.url, sha256: image.sha256 },
        ready: { ssh: { host: d.ssh.host, port: d.ssh.port, username: d.ssh.username } },
      },
      underlay: {
        connection: { host: d.ssh.host, port: d.ssh.port, username: d.ssh.username },
        interfaces: [{ name: "p0", mtu: 9000, addresses: [`198.19.0.${i + 1}/24`] }],
      },
      workloads: [
        {
          connection: { host: d.ssh.host, port: d.ssh.port, username: d.ssh.username },
          name: "agent",
          runtime: "process",
          command: ["touch /tmp/agent.ready; exec sleep infinity"],
          shell: true,
          env: { GREETING: config.get("greeting") ?? "hello" },
          secretEnv: { AGENT_TOKEN: config.getSecret("agentToken") ?? pulumi.secret("lab-token") },
          health: { command: ["test", "-e", "/tmp/agent.ready"], intervalMs: 200, retries: 25 },
        },
      ],
    }),
);

/** What each DPU runs, by name. */
export const images = pulumi
  .all(nodes.map((n) => n.host.osRelease))
  .apply((rs) =>
    Object.fromEntries(rs.map((r, i) => [endpoints.dpus[i]?.name ?? String(i), r?.IMAGE_ID ?? "unknown"])),
  );
/** Workload status by DPU. */
export const agents = pulumi
  .all(nodes.map((n) => n.workloads[0]?.status ?? pulumi.output("none")))
  .apply((ss) => Object.fromEntries(ss.map((s, i) => [endpoints.dpus[i]?.name ?? String(i), s])));
