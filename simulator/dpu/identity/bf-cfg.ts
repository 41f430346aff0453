import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exec } from "../exec";

/**
 * The hooks of a bf.cfg the BlueField installer calls, in its order (BSP "bf.cfg Parameters": `bfb_pre_install`
 * before the OS is written, `bfb_modify_os` with the new root mounted at /mnt, `bfb_post_install` at the end).
 */
export const BF_CFG_HOOKS = ["bfb_pre_install", "bfb_modify_os", "bfb_post_install"] as const;

/** Documented bf.cfg variables the simulated image does not act on (named in the install log when set). */
const UNSIMULATED_VARIABLES = [
  "ubuntu_PASSWORD",
  "UBUNTU_PASSWORD",
  "BMC_USER",
  "BMC_PASSWORD",
  "BMC_NEW_PASSWORD",
] as const;

/** The installer script: source the bf.cfg, call its hooks with the new root on /mnt. */
const INSTALLER = `mount --make-rprivate / && mount --bind "$DPU_NEW_ROOT" /mnt || exit 97
cd /
. "$DPU_BF_CFG"
for hook in ${BF_CFG_HOOKS.join(" ")}; do
  if command -v "$hook" >/dev/null 2>&1; then echo "bf.cfg: $hook"; "$hook" || echo "bf.cfg: $hook exited $?"; fi
done
${UNSIMULATED_VARIABLES.map((v) => `[ -n "\${${v}-}" ] && echo "bf.cfg: ${v} is set; the simulated image has no such account, not applied"`).join("\n")}
exit 0
`;

/**
 * Runs a bf.cfg the way the BFB's installer does: sourced by bash, its hooks called with the DPU's new root
 * mounted at `/mnt` (here: `newRoot`, the disk just written). It runs in its own mount and network namespaces
 * (no network, `/mnt` private to it), as root, like the installer on the DPU. Returns the install log (a failing
 * hook is logged, the install goes on); the log stays on the DPU's disk, never in the BMC's state, since a
 * bf.cfg may echo what it holds.
 */
export async function runBfCfg(bfCfg: string, newRoot: string, dpuName: string): Promise<string> {
  const work = await mkdtemp(join(tmpdir(), "dpu-bfcfg-"));
  try {
    const cfg = join(work, "bf.cfg");
    await writeFile(cfg, bfCfg, { mode: 0o600 });
    const res = await exec(
      "env",
      [
        `DPU_NEW_ROOT=${newRoot}`,
        `DPU_BF_CFG=${cfg}`,
        "unshare",
        "--mount",
        "--net",
        "--fork",
        "--",
        "bash",
        "-c",
        INSTALLER,
      ],
      { allowFailure: true, timeoutMs: 60_000 },
    );
    const log = `${res.stdout}${res.stderr}`;
    return res.code === 0 ? log : `${log}bf.cfg: ${dpuName}: the installer exited ${res.code}\n`;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
