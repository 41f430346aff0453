/**
 * Names the DPUs in the demo's provider progress. The providers key their lines by what they are given (a
 * DpuHost by its BMC URL and Redfish system id, `DPU 1`), which looks the same for every DPU of the lab; the
 * demo knows which DPU each BMC belongs to and shows its resource (`dpu-2-host`) instead, the BMC kept in
 * parentheses.
 */
import type { EndpointsFile } from "../simulator/contracts";

function reEscape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Returns a function that rewrites one progress line, naming the DPU whose BMC it mentions. */
export function dpuNamer(endpoints: Pick<EndpointsFile, "dpus">): (line: string) => string {
  const rules = endpoints.dpus.map((d) => {
    const url = d.bmc.url.replace(/\/+$/, "");
    return {
      url,
      // `DpuHost https://127.0.0.1:45791` or `DpuHost https://127.0.0.1:45791/1` (with a system id).
      mentions: new RegExp(`${reEscape(url)}(?!\\d)`),
      scope: new RegExp(`DpuHost ${reEscape(url)}(?:/${reEscape(d.bmc.systemId)})?(?!\\d)`, "g"),
      system: new RegExp(`\\bDPU ${reEscape(d.bmc.systemId)}\\b`, "g"),
      name: d.name,
    };
  });
  return (line) => {
    for (const r of rules) {
      if (!r.mentions.test(line)) continue;
      // The resource as the program and the engine name it: examples/fleet's DpuNode `dpu-0` has `dpu-0-host`.
      return line.replace(r.scope, `DpuHost ${r.name}-host (BMC ${r.url})`).replace(r.system, r.name);
    }
    return line;
  };
}
