import { type RenderedFile, type RenderInput, routeTo } from "./render-model";

const DIR = "/etc/systemd/network";

/** Renders systemd-networkd `.network` (and `.netdev` for VLANs) files for exactly the declared links. */
export function renderNetworkd(input: RenderInput): RenderedFile[] {
  const files: RenderedFile[] = [];
  const header = "# Managed by pulumi-dpu (DpuUnderlay). Changes are overwritten.";
  const network = (
    name: string,
    l: { mtu?: number; addresses: readonly string[] },
    extra: string[],
    mac?: string,
    down?: boolean,
  ) => {
    const out = [header, "[Match]", mac !== undefined ? `MACAddress=${mac}` : `Name=${name}`, ""];
    out.push("[Link]");
    if (l.mtu !== undefined) out.push(`MTUBytes=${l.mtu}`);
    out.push(`ActivationPolicy=${down ? "always-down" : "up"}`, "");
    out.push("[Network]", ...l.addresses.map((a) => `Address=${a}`), ...extra);
    if (input.dns && name === input.links[0]?.name) {
      for (const s of input.dns.servers) out.push(`DNS=${s}`);
      if (input.dns.search.length > 0) out.push(`Domains=${input.dns.search.join(" ")}`);
    }
    for (const r of input.routes.filter((x) => x.dev === name)) {
      out.push("", "[Route]", `Destination=${routeTo(r.destination)}`);
      if (r.via !== undefined) out.push(`Gateway=${r.via}`);
      else out.push("Scope=link");
      if (r.metric !== undefined) out.push(`Metric=${r.metric}`);
      if (r.table !== undefined) out.push(`Table=${r.table}`);
    }
    return `${out.join("\n")}\n`;
  };
  for (const l of input.links) {
    files.push({
      path: `${DIR}/60-pulumi-dpu-${input.id}-${l.name}.network`,
      mode: 0o644,
      content: network(
        l.name,
        l,
        l.vlans.map((v) => `VLAN=${v.name}`),
        l.mac,
        l.state === "down",
      ),
    });
    for (const v of l.vlans) {
      files.push({
        path: `${DIR}/60-pulumi-dpu-${input.id}-${v.name}.netdev`,
        mode: 0o644,
        content: `${header}\n[NetDev]\nName=${v.name}\nKind=vlan${v.mtu !== undefined ? `\nMTUBytes=${v.mtu}` : ""}\n\n[VLAN]\nId=${v.id}\n`,
      });
      files.push({
        path: `${DIR}/60-pulumi-dpu-${input.id}-${v.name}.network`,
        mode: 0o644,
        content: network(v.name, v, []),
      });
    }
  }
  return files;
}
