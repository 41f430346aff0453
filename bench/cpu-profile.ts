/**
 * Reads a V8 `.cpuprofile` (written by `node --cpu-prof`) and says where the time goes: self time per function
 * and per package, from the profile's samples. The README's "where the time goes" section is generated from it.
 */
import { readFileSync } from "node:fs";

/** One line of the summary: a function (or a package) and its self time. */
export interface SelfTime {
  readonly name: string;
  readonly selfMs: number;
  /** Share of the non-idle sampled time, percent. */
  readonly pct: number;
}

/** What a profile shows. */
export interface ProfileSummary {
  readonly file: string;
  /** Non-idle sampled time, ms. */
  readonly busyMs: number;
  readonly topFunctions: readonly SelfTime[];
  readonly byPackage: readonly SelfTime[];
}

interface CpuNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface CpuProfile {
  nodes: CpuNode[];
  samples: number[];
  timeDeltas: number[];
}

/** The package (or area) a script URL belongs to. */
export function packageOf(url: string): string {
  if (!url) return "(native / V8)";
  if (url.startsWith("node:")) return "Node.js core";
  const nm = url.lastIndexOf("node_modules/");
  if (nm >= 0) {
    const rest = url.slice(nm + "node_modules/".length).split("/");
    return rest[0]?.startsWith("@") ? `${rest[0]}/${rest[1]}` : (rest[0] ?? url);
  }
  const m = /\/(dist|build\/bench)\/(provider|sdk|simulator|engine|bench)\/([^/]+)/.exec(url);
  if (m) return `pulumi-dpu ${m[2]}/${m[2] === "provider" ? (m[3] ?? "") : ""}`.replace(/\/$/, "");
  return url.replace(/^file:\/\//, "");
}

/** Summarizes a profile: the `top` functions by self time and self time per package. */
export function summarizeProfile(file: string, top = 12): ProfileSummary {
  const p = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  p.samples.forEach((id, i) => {
    self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0) / 1000);
  });
  const fns = new Map<string, number>();
  const pkgs = new Map<string, number>();
  let busy = 0;
  for (const [id, ms] of self) {
    const n = byId.get(id);
    if (!n) continue;
    const f = n.callFrame;
    if (f.functionName === "(idle)") continue;
    busy += ms;
    const short = f.url ? `${f.url.split("/").slice(-2).join("/")}:${f.lineNumber + 1}` : "";
    const key = `${f.functionName || "(anonymous)"}${short ? ` (${short})` : ""}`;
    fns.set(key, (fns.get(key) ?? 0) + ms);
    const pkg = f.url ? packageOf(f.url) : f.functionName.startsWith("(") ? f.functionName : "(native / V8)";
    pkgs.set(pkg, (pkgs.get(pkg) ?? 0) + ms);
  }
  const list = (m: Map<string, number>, k: number): SelfTime[] =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, k)
      .map(([name, selfMs]) => ({
        name,
        selfMs: Math.round(selfMs * 10) / 10,
        pct: busy > 0 ? Math.round((1000 * selfMs) / busy) / 10 : 0,
      }));
  return { file, busyMs: Math.round(busy), topFunctions: list(fns, top), byPackage: list(pkgs, 10) };
}
