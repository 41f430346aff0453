import { warnings } from "../../cli/inspect";
import type { BmcCapabilities } from "../../provider/redfish";
import type { EndpointsFile } from "../../simulator/contracts";
import { runInspect } from "../adversary/inspect-run";
import { METHODS, OK, REFUSED, type Row, refusalName } from "./matrix";

type Dpu = EndpointsFile["dpus"][number];

/** What `pulumi-dpu inspect --json` printed for one BMC: its report, or why it failed. */
export type InspectReport =
  | { readonly ok: true; readonly caps: BmcCapabilities }
  | { readonly ok: false; readonly error: string };

const PASSWORD_ENV = "PULUMI_DPU_CONFORMANCE_BMC_PASSWORD";

/**
 * Runs the CLI's `inspect` (the code path of `pulumi-dpu inspect --json`) against one lab BMC, in this process.
 * It closes every Redfish pool when it ends, so inspections run before anything else talks to a BMC.
 */
export async function inspectBmc(d: Dpu): Promise<InspectReport> {
  const args = ["--endpoint", d.bmc.url, "--username", d.bmc.username, "--password-env", PASSWORD_ENV];
  args.push("--ca-cert", d.bmc.caCertFile, "--system-id", d.bmc.systemId, "--json");
  try {
    const r = await runInspect(args, { [PASSWORD_ENV]: d.bmc.password });
    if (r.code !== 0) return { ok: false, error: `exit ${r.code}: ${r.err.trim()}` };
    return { ok: true, caps: JSON.parse(r.out) as BmcCapabilities };
  } catch (x) {
    return { ok: false, error: x instanceof Error ? x.message : String(x) };
  }
}

/**
 * inspect's cell: ✅ when what it reported is what DpuHost then did. Each method it lists was created, or refused
 * only for the SimpleUpdate protocols it warned about; each method it does not list was refused for the reason it
 * gave; it warned that ready.ssh is needed exactly where the create without it was refused for that.
 */
export function inspectCell(report: InspectReport, row: Omit<Row, "inspect">): string {
  if (!report.ok) return `❌ inspect failed: ${report.error.slice(0, 200)}`;
  const c = report.caps;
  const warned = warnings(c);
  const scpWarned = warned.some((w) => /SimpleUpdate fetches only over/.test(w));
  const problems: string[] = [];
  for (const m of METHODS) {
    const got = row[m];
    if (c.methods.includes(m)) {
      const fine = got === OK || (m === "simpleUpdate" && scpWarned && got === REFUSED.scpOnly);
      if (!fine) problems.push(`lists ${m}, but its create gave ${got}`);
    } else {
      const said = refusalName(c.unavailable?.[m] ?? "");
      if (got === OK || said !== got) problems.push(`says ${m}: ${c.unavailable?.[m]}, create gave ${got}`);
    }
  }
  if (c.recommended) {
    const sshWarned = warned.some((w) => /needs ready\.ssh/.test(w));
    if (sshWarned !== (row.noSsh === REFUSED.ssh))
      problems.push(
        `${sshWarned ? "warns" : "does not warn"} about ready.ssh; create without it: ${row.noSsh}`,
      );
  }
  return problems.length === 0 ? OK : `❌ inspect ${problems.join("; ")}`;
}
