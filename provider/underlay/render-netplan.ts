import { type RenderedFile, type RenderInput, routeTo } from "./render-model";

const q = (s: string) => JSON.stringify(s);

/** Renders one netplan YAML file (`/etc/netplan/60-pulumi-dpu-<id>.yaml`) for exactly the declared links. */
export function renderNetplan(input: RenderInput): RenderedFile[] {
  const lines = [
    "# Managed by pulumi-dpu (DpuUnderlay). Changes are overwritten.",
    "network:",
    "  version: 2",
    "  renderer: networkd",
  ];
  const routesOf = (dev: string) => input.routes.filter((r) => r.dev === dev);
  const block = (indent: string, l: { mtu?: number; addresses: readonly string[] }, dev: string) => {
    if (l.mtu !== undefined) lines.push(`${indent}mtu: ${l.mtu}`);
    if (l.addresses.length > 0) {
      lines.push(`${indent}addresses:`);
      for (const a of l.addresses) lines.push(`${indent}  - ${q(a)}`);
    }
    const rs = routesOf(dev);
    if (rs.length > 0) {
      lines.push(`${indent}routes:`);
      for (const r of rs) {
        lines.push(`${indent}  - to: ${q(routeTo(r.destination))}`);
        if (r.via !== undefined) lines.push(`${indent}    via: ${q(r.via)}`);
        if (r.metric !== undefined) lines.push(`${indent}    metric: ${r.metric}`);
        if (r.table !== undefined) lines.push(`${indent}    table: ${r.table}`);
        if (r.via === undefined) lines.push(`${indent}    scope: link`);
      }
    }
  };
  lines.push("  ethernets:");
  for (const l of input.links) {
    lines.push(`    ${q(l.name)}:`);
    if (l.mac !== undefined) {
      lines.push("      match:", `        macaddress: ${q(l.mac)}`, `      set-name: ${q(l.name)}`);
    }
    if (l.state === "down") lines.push("      activation-mode: off");
    block("      ", l, l.name);
    if (input.dns && l === input.links[0] && (input.dns.servers.length > 0 || input.dns.search.length > 0)) {
      lines.push("      nameservers:");
      if (input.dns.servers.length > 0)
        lines.push(`        addresses: [${input.dns.servers.map(q).join(", ")}]`);
      if (input.dns.search.length > 0) lines.push(`        search: [${input.dns.search.map(q).join(", ")}]`);
    }
  }
  const vlans = input.links.flatMap((l) => l.vlans.map((v) => ({ ...v, parent: l.name })));
  if (vlans.length > 0) {
    lines.push("  vlans:");
    for (const v of vlans) {
      lines.push(`    ${q(v.name)}:`, `      id: ${v.id}`, `      link: ${q(v.parent)}`);
      block("      ", v, v.name);
    }
  }
  return [
    { path: `/etc/netplan/60-pulumi-dpu-${input.id}.yaml`, mode: 0o600, content: `${lines.join("\n")}\n` },
  ];
}
