import { readFileSync } from "node:fs";
import type * as pulumi from "@pulumi/pulumi";
import { expect } from "vitest";
import type { SshPool, SshSession } from "../../provider/ssh";
import type { EndpointsFile } from "../../simulator/contracts";
import { unavailable } from "../capabilities";

/** Why the lab cannot run here, or `undefined`. Under CI a missing prerequisite fails instead of skipping. */
export function labUnavailable(): string | undefined {
  return unavailable("workload lab tests", "lab");
}

/** The `connection` input for one lab DPU. */
export function connectionFor(ep: EndpointsFile, index = 0, pinHostKey = true): Record<string, unknown> {
  const d = ep.dpus[index];
  if (!d) throw new Error(`no DPU ${index} in the lab`);
  return {
    host: d.ssh.host,
    port: d.ssh.port,
    username: d.ssh.username,
    privateKey: readFileSync(d.ssh.privateKeyFile, "utf8"),
    ...(pinHostKey ? { hostKey: d.ssh.hostKeyFingerprint } : {}),
    dialAttempts: 3,
    dialTimeoutMs: 5000,
  };
}

export { CountingConnector } from "../ssh/counting-connector";

/** A root SSH session to DPU `index` of the lab through `pool` (tests read and change the DPU's files with it). */
export function rootSession(pool: SshPool, ep: EndpointsFile, index = 0): Promise<SshSession> {
  const c = connectionFor(ep, index);
  return pool.session({
    host: c.host as string,
    port: c.port as number,
    username: "root",
    privateKey: c.privateKey as string,
    jumpHosts: [],
    dialAttempts: 3,
    dialTimeoutMs: 5000,
    keepaliveIntervalMs: 0,
    sudo: false,
  });
}

/** check() of `provider` on `news`, asserting that it found no failure; the checked inputs. */
export async function checkedBy(
  provider: pulumi.dynamic.ResourceProvider,
  news: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const r = await provider.check!({}, news);
  expect(r.failures).toEqual([]);
  return r.inputs as Record<string, unknown>;
}

/** Runs `cmd` with the DPU's own /bin/sh (a busybox DPU has no bash); its trimmed stdout. */
export async function shOn(session: SshSession, cmd: string): Promise<string> {
  return (await session.exec(["sh", "-c", cmd])).stdout.trim();
}

/** What `p` resolves to, or the error it rejects with (concurrent applies are compared after both settle). */
export function settle<T>(p: Promise<T>): Promise<T | Error> {
  return p.then(
    (v) => v,
    (e: unknown) => (e instanceof Error ? e : new Error(String(e))),
  );
}
