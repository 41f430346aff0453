import { quoteArg } from "../../ssh/quote";
import type { DpuIdentity } from "../identity.schema";
import type { NoCloudSeed } from "./nocloud";

/**
 * Where the BlueField Ubuntu BFB keeps its cloud-init NoCloud seed on the installed root file system (mounted at
 * `/mnt` while the installer runs): NVIDIA's installer (`install.sh` of github.com/Mellanox/bfb-build, Ubuntu
 * 22.04/24.04) edits `/mnt/var/lib/cloud/seed/nocloud-net/user-data` and `network-config` there.
 */
export const BFB_SEED_DIR = "/mnt/var/lib/cloud/seed/nocloud-net";

/**
 * Renders a per-DPU `bf.cfg` to append to a BlueField BFB (`cat <BFB> bf.cfg > <new BFB>`, NVIDIA BlueField BSP
 * 4.8.0–4.12.0 "Customizing BlueField Software Deployment Using bf.cfg"; SimpleUpdate of such a BFB through the
 * BMC: BlueField BMC 24.01–24.07 "Deploying BlueField Software Using BFB from BMC").
 *
 * Parameters used, and only these:
 * - `ubuntu_PASSWORD='<crypt hash>'` (documented in the pages above) when the identity sets a password for the
 *   `ubuntu` user;
 * - `bfb_modify_os()`, the shell function the installer runs from bf.cfg once the OS is extracted to `/mnt`
 *   (`if function_exists bfb_modify_os; then … bfb_modify_os; fi` in NVIDIA's install.sh). BlueField has no
 *   dedicated parameter for host name, keys or addresses, so the function writes the same NoCloud documents the
 *   `cidata` volume carries into the image's own seed directory, and cloud-init applies them at first boot.
 *
 * The installer's later `set_root_password` step rewrites a top-level `users:` block of that user-data; the
 * rendered user-data has none (the password travels as `chpasswd.users`), so nothing of it is lost.
 *
 * Every value is a single-quoted shell word ({@link quoteArg}): the file is sourced by the installer's shell and
 * no content (quotes, `$(…)`, newlines, a line reading `EOF`) can become code. Checked with `dash -n` and
 * shellcheck, and by sourcing it in bash and running `bfb_modify_os` against a scratch `/mnt`.
 */
export function renderBfCfg(identity: DpuIdentity, seed: NoCloudSeed): string {
  const lines = [
    "# bf.cfg: Day-0 identity written by pulumi-dpu; sourced by the BlueField BFB installer.",
    `# DPU: ${identity.hostname}`,
    "# Every value below is a literal single-quoted word (SC2016); ubuntu_PASSWORD is read by the installer (SC2034).",
    "# shellcheck disable=SC2016,SC2034",
  ];
  if (identity.password !== undefined && identity.password.user === "ubuntu") {
    lines.push(`ubuntu_PASSWORD=${quoteArg(identity.password.hash)}`);
  }
  const dir = BFB_SEED_DIR;
  // Removed first and re-created under umask 077: the documents (password hash, host key) are root-only from
  // their first byte, whatever mode the image shipped them with.
  const write = (name: string, text: string) =>
    `\t\trm -f ${dir}/${name} && printf '%s' ${quoteArg(text)} > ${dir}/${name} || exit 1`;
  lines.push(
    "",
    "bfb_modify_os()",
    "{",
    "\t(",
    "\t\tumask 077",
    `\t\tmkdir -p ${dir} || exit 1`,
    write("meta-data", seed.metaData),
    write("user-data", seed.userData),
    write("network-config", seed.networkConfig),
    "\t)",
    "}",
    "",
  );
  return lines.join("\n");
}
