import { readShellAsset } from "../ssh/shell-asset";
import { CTL_LOCK_SH } from "./ctl-script-lock";
import { WORKLOAD_COMMON_SH } from "./supervisor-script";

/**
 * The workload control script (`assets/ctl.sh`): static POSIX sh text, run as
 * `sh -c <CTL_SH> pulumi-dpu-ctl <action> <root> <name> <runtime> [args…]` (see `ctlArgv`). It receives data only as positional arguments and files (never interpolated into shell text), and
 * prints machine-readable output. Actions:
 *
 * - `prepare <token> <lease s> <who> <stale token|""> [<dest> <overwrite 0|1>]…`: take the workload's lock
 *   (exit 75 printing `busy` and the holder when another apply holds it); finish what an apply cut short left
 *   (a switch interrupted half-way is undone, staged uploads and temporary files are removed); check and claim
 *   every destination (`refused <i> <why>` lines and exit 65 when one cannot be ours); print `sha <i> <sha256|->`
 *   per destination.
 * - `apply <start|stop> <token>`: the version switch. The ustar archive on stdin holds the spec files, the
 *   supervisor and `switch` (one `<staged 0|1> <sha256> <dest>` line per artifact; secrets travel here, never in
 *   argv). Every staged upload is verified first (exit 65 `badstage <i>`); then the running version is kept in
 *   `previous/`, the staged artifacts are renamed into place and the spec replaced, under a journal
 *   (`switching`) that the next `prepare` undoes if the switch is cut short; then start or stop.
 * - `renew <token> <lease s>` / `unlock <token>`: extend / release the lock (unlock also removes staged uploads).
 * - `start`: stop what runs, apply artifact modes, start the current spec with the runtime.
 * - `stop`: stop, keep files.
 * - `status <health 0|1> <log lines>`: one JSON document (status, pid, digests, health, base64 log tail).
 * - `rollback`: restore `previous/` (artifacts + spec) and start it; exit 3 when there is no previous version.
 * - `remove`: stop; remove the unit / container, the artifacts it owns (restoring backups) and the workload
 *   directory (idempotent).
 * - `setowner <owner>`: record the owner in the current spec's `meta` (adopting a workload deployed without
 *   one), without a redeploy; nothing when no version is deployed.
 */
export const CTL_SH = readShellAsset(__dirname, "ctl.sh", {
  "ctl-lock.sh": CTL_LOCK_SH,
  "common.sh": WORKLOAD_COMMON_SH,
});
