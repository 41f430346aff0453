import { REMOTE_LOCK_INCLUDE } from "../ssh/remote-lock";
import { readShellAsset } from "../ssh/shell-asset";

/**
 * Shell functions of the control script (see `ctl-script.ts`, asset `assets/ctl-lock.sh`) that serialize
 * writers and record who owns which artifact path. Static POSIX sh text (dash, busybox ash, bash); data arrives
 * as arguments only.
 *
 * - The lock of a workload is the shared DPU lock (`provider/ssh/remote-lock.ts`) on the directory
 *   `$ROOT/.locks/<name>.lock`; its `who=` is host, pid, stack and action. A lock whose lease expired, or that
 *   the provider proves stale (its process is gone), is taken over, one taker at a time.
 * - The owner of an artifact path is the file `$ROOT/.owners/<sha256 of the path>` (`name=`, `backup=`,
 *   `path=`), created with `ln` (atomic, fails when it exists). `<key>.backup` keeps a file the workload was
 *   allowed to overwrite; releasing the path puts it back.
 */
export const CTL_LOCK_SH = readShellAsset(__dirname, "ctl-lock.sh", REMOTE_LOCK_INCLUDE);
