import type { SshEndpoint } from "./types";

/** `user@host:port` (IPv6 hosts in brackets), used in every message about an endpoint. */
export function endpointLabel(ep: Pick<SshEndpoint, "host" | "port" | "username">): string {
  const host = ep.host.includes(":") ? `[${ep.host}]` : ep.host;
  return `${ep.username}@${host}:${ep.port}`;
}
