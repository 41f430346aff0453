/**
 * The oldest Node this package runs on (`engines.node` of package.json, kept equal by a test): 22.18 is the
 * first 22.x that strips TypeScript types by default, which `pulumi-dpu demo` needs to run examples/fleet
 * without a Pulumi CLI.
 */
export const MIN_NODE = "22.18.0";

/** `[major, minor, patch]` of a Node version string (`v22.18.0` or `22.18.0`). */
function parts(version: string): [number, number, number] {
  const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec(version);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : [0, 0, 0];
}

/** Why `version` is too old for pulumi-dpu, or undefined when it is recent enough. */
export function nodeVersionProblem(version: string = process.version): string | undefined {
  const have = parts(version);
  const need = parts(MIN_NODE);
  for (let i = 0; i < 3; i++) {
    if ((have[i] ?? 0) > (need[i] ?? 0)) return undefined;
    if ((have[i] ?? 0) < (need[i] ?? 0)) {
      return `Node ${version} is too old: pulumi-dpu needs Node >= ${MIN_NODE} (package.json engines); nothing was started`;
    }
  }
  return undefined;
}
