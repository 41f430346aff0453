import { execFile } from "node:child_process";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { expect } from "vitest";
import type { Lab, LabDpu } from "../../simulator";
import { type DpuEndpoint, login, rf, ssh, until } from "./helpers";

const run = promisify(execFile);

/** An ed25519 key pair made by OpenSSH's `ssh-keygen`. */
export interface KeyPair {
  readonly privateFile: string;
  readonly privateKey: string;
  readonly publicKey: string;
}

/** A fresh scratch directory. */
export function scratch(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** `ssh-keygen -t ed25519` into `dir/name`. */
export async function keyPair(dir: string, name: string): Promise<KeyPair> {
  const file = join(dir, name);
  await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", file]);
  return {
    privateFile: file,
    privateKey: await readFile(file, "utf8"),
    publicKey: (await readFile(`${file}.pub`, "utf8")).trim(),
  };
}

/** The DPU's management addressing as it reports it (before any seed): address, prefix, name server. */
export async function defaultAddressing(
  ep: DpuEndpoint,
): Promise<{ address: string; prefix: number; nameserver: string }> {
  const r = await ssh(ep, "ip -j -4 addr show dev oob_net0; echo ---; cat /etc/resolv.conf");
  const [json, resolv] = r.stdout.split("---\n");
  const info = JSON.parse(json ?? "[]") as { addr_info: { local: string; prefixlen: number }[] }[];
  const own = info[0]?.addr_info.find((a) => a.local === ep.ssh.host);
  const ns = /^nameserver\s+(\S+)/m.exec(resolv ?? "")?.[1];
  if (!own || !ns) throw new Error(`${ep.name}: cannot read its default addressing: ${r.stdout}`);
  return { address: own.local, prefix: own.prefixlen, nameserver: ns };
}

/** The `offset`-th address below the broadcast address of `address/prefix` (IPv4). */
export function addressFromTop(address: string, prefix: number, offset: number): string {
  const n = address.split(".").reduce((a, o) => a * 256 + Number(o), 0);
  const size = 2 ** (32 - prefix);
  const host = n - (n % size) + size - 1 - offset;
  return [24, 16, 8, 0].map((s) => Math.floor(host / 2 ** s) % 256).join(".");
}

/** Output of the OpenSSH client. */
export interface OpenSshResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `cmd` as root on `host` with the OpenSSH client, key `keyFile` only, trusting only `hostPublicKey`
 * (StrictHostKeyChecking=yes against a known_hosts file holding that key alone).
 */
export async function openssh(
  dir: string,
  host: string,
  keyFile: string,
  hostPublicKey: string,
  cmd: string,
): Promise<OpenSshResult> {
  const knownHosts = join(dir, `known_hosts-${host}`);
  await writeFile(knownHosts, `${host} ${hostPublicKey.split(/\s+/).slice(0, 2).join(" ")}\n`);
  try {
    const { stdout, stderr } = await run(
      "ssh",
      [
        "-F",
        "/dev/null",
        "-i",
        keyFile,
        "-o",
        "IdentitiesOnly=yes",
        "-o",
        "BatchMode=yes",
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        `UserKnownHostsFile=${knownHosts}`,
        "-o",
        "GlobalKnownHostsFile=/dev/null",
        "-o",
        "ConnectTimeout=3",
        "-o",
        "LogLevel=ERROR",
        `root@${host}`,
        cmd,
      ],
      { timeout: 20_000 },
    );
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return {
      code: typeof err.code === "number" ? err.code : -1,
      stdout: err.stdout ?? "",
      stderr: err.stderr ?? "",
    };
  }
}

/** Waits until the OpenSSH client gets in (the DPU booted with its seed); returns that first result. */
export function untilOpenssh(
  dir: string,
  host: string,
  keyFile: string,
  hostPublicKey: string,
  cmd: string,
  timeoutMs: number,
): Promise<OpenSshResult> {
  return until(
    `OpenSSH login to ${host}`,
    async () => {
      const r = await openssh(dir, host, keyFile, hostPublicKey, cmd);
      return r.code === 0 ? r : undefined;
    },
    timeoutMs,
  );
}

/** A Redfish session to a lab BMC, plain HTTPS (no project client). */
export interface RedfishSession {
  get(path: string): Promise<Record<string, unknown>>;
  send(method: "POST" | "PATCH", path: string, body: unknown): Promise<number>;
}

/** Logs in to `ep`'s BMC and returns a small GET/POST/PATCH session. */
export async function redfishSession(ep: DpuEndpoint): Promise<RedfishSession> {
  const token = await login(ep);
  return {
    async get(path) {
      const r = await rf(ep, "GET", path, { token });
      if (r.status !== 200) throw new Error(`GET ${path}: ${r.status}`);
      return r.body as Record<string, unknown>;
    },
    async send(method, path, body) {
      const r = await rf(ep, method, path, { token, body });
      if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
      return r.status;
    },
  };
}

const idOf = (v: unknown): string => String((v as { "@odata.id": string })["@odata.id"]);

/** Every virtual-media slot of the BMC (under the system and under each manager), as served. */
export async function virtualMediaSlots(
  s: RedfishSession,
  systemId: string,
): Promise<Record<string, unknown>[]> {
  const parents = [await s.get(`/redfish/v1/Systems/${systemId}`)];
  const managers = await s.get("/redfish/v1/Managers");
  for (const m of managers.Members as unknown[]) parents.push(await s.get(idOf(m)));
  const slots: Record<string, unknown>[] = [];
  for (const p of parents) {
    if (!p.VirtualMedia) continue;
    const coll = await s.get(idOf(p.VirtualMedia));
    for (const m of coll.Members as unknown[]) slots.push(await s.get(idOf(m)));
  }
  return slots;
}

/** Inserts `image` into `slot`: InsertMedia where the slot offers it, else a PATCH of Image/Inserted (DMTF). */
export async function insertMedia(
  s: RedfishSession,
  slot: Record<string, unknown>,
  image: string,
): Promise<void> {
  const action = (slot.Actions as Record<string, { target: string }> | undefined)?.[
    "#VirtualMedia.InsertMedia"
  ];
  if (action) await s.send("POST", action.target, { Image: image, Inserted: true, WriteProtected: true });
  else await s.send("PATCH", idOf(slot), { Image: image, Inserted: true });
}

/** Resets the system with a restart the BMC offers. */
export async function restart(s: RedfishSession, systemId: string): Promise<void> {
  const sys = await s.get(`/redfish/v1/Systems/${systemId}`);
  const reset = (sys.Actions as Record<string, Record<string, unknown>>)["#ComputerSystem.Reset"]!;
  let allowed = reset["ResetType@Redfish.AllowableValues"] as string[] | undefined;
  if (!allowed && typeof reset["@Redfish.ActionInfo"] === "string") {
    const info = await s.get(reset["@Redfish.ActionInfo"]);
    allowed = ((info.Parameters as { Name: string; AllowableValues?: string[] }[]) ?? []).find(
      (p) => p.Name === "ResetType",
    )?.AllowableValues;
  }
  const type = ["ForceRestart", "PowerCycle", "GracefulRestart"].find((t) => allowed?.includes(t));
  if (!type) throw new Error(`no restart ResetType among ${JSON.stringify(allowed)}`);
  await s.send("POST", String(reset.target), { ResetType: type });
}

/** What a seeded DPU must show. */
export interface SeededExpectation {
  readonly dir: string;
  readonly ep: DpuEndpoint;
  readonly dpu: LabDpu;
  readonly before: { readonly address: string; readonly prefix: number; readonly nameserver: string };
  readonly address: string;
  readonly hostname: string;
  readonly operator: KeyPair;
  readonly hostKey: KeyPair;
}

/**
 * Waits for the seeded DPU and checks it over OpenSSH (trusting only the seed's host key): its hostname, the
 * seed's address instead of the default one, the default route, the operator key accepted and the image's
 * default key (the lab's) refused; and the lab reports the seed's host key fingerprint.
 */
export async function expectSeeded(e: SeededExpectation): Promise<void> {
  const { dir, address, hostKey } = e;
  const r = await untilOpenssh(
    dir,
    address,
    e.operator.privateFile,
    hostKey.publicKey,
    "hostname; ip -4 -o addr show dev oob_net0; ip -4 route show default",
    30_000,
  );
  const [name, addr, route] = r.stdout.trim().split("\n");
  expect(name).toBe(e.hostname);
  expect(addr).toContain(` ${address}/${e.before.prefix} `);
  expect(addr).not.toContain(` ${e.before.address}/`);
  expect(route).toContain(`default via ${e.before.nameserver} dev oob_net0`);
  const labKey = await openssh(dir, address, e.ep.ssh.privateKeyFile, hostKey.publicKey, "true");
  expect(labKey.code).toBe(255);
  expect(labKey.stderr).toMatch(/Permission denied/);
  const fp = (await run("ssh-keygen", ["-l", "-f", `${hostKey.privateFile}.pub`])).stdout.split(" ")[1];
  expect(e.dpu.hostKeyFingerprint()).toBe(fp);
}

/**
 * The identity DPU `i` of `lab` gets in a test: a fresh host key, `hostname`, and an address near the top of the
 * management subnet it reports (read over SSH before any seed, so nothing of the lab's plan is assumed).
 */
export async function planIdentity(
  lab: Lab,
  dir: string,
  i: number,
  hostname: string,
  operator: KeyPair,
): Promise<SeededExpectation> {
  const ep = lab.endpoints.dpus[i]!;
  const before = await defaultAddressing(ep);
  return {
    dir,
    ep,
    dpu: lab.dpus.get(ep.name)!,
    before,
    address: addressFromTop(before.address, before.prefix, 2 + i),
    hostname,
    operator,
    hostKey: await keyPair(dir, `host-${i}`),
  };
}
