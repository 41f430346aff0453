import { readShellAsset } from "../ssh/shell-asset";

/** Shell functions of both the supervisor and the control script (`assets/common.sh`): `kv`, `alive`. */
export const WORKLOAD_COMMON_SH = readShellAsset(__dirname, "common.sh");

/**
 * Cap of the whole log in bytes: `log/output.log` and its one rotated copy `output.log.1` are segments of half
 * of it each, so the log never takes more than this on the DPU (plus the supervisor's own short lines).
 */
export const MAX_LOG_BYTES = 1_048_576;

/**
 * The process-runtime supervisor (`assets/supervisor.sh`): static POSIX sh text shipped by the provider and written to
 * `<workload dir>/supervisor.sh`. It is started detached with `setsid` and takes the workload directory as its
 * only argument; everything else (argv, environment, policy) is read from files as data, never evaluated.
 *
 * Layout under the workload directory:
 * - `spec/argv` one argument per line; `spec/env.sh` `export KEY='value'` lines (0600, holds secret values),
 *   loaded by the child's subshell just before `exec`, after everything the supervisor needs is resolved, so no
 *   variable name can change the supervisor's own behaviour;
 *   `spec/meta` `key=value` lines (`restart`, `workdir`, `user`).
 * - `run/supervisor.pid`, `run/child.pid`, `run/started` (epoch s), `run/restarts`, `run/exitcode`,
 *   `run/stopped` (present after a requested stop).
 * - `log/output.log` (+ one rotated `output.log.1`), `log/spec-key`.
 *
 * **Log size.** The child never writes the log file itself: its stdout and stderr go to a FIFO (`run/log.fifo`)
 * read by a small pump, which copies at most the room left in the current segment with `dd` (plain `read(2)`s,
 * so nothing is read ahead and lost, unlike busybox `head -c`) and starts a new segment by renaming the full one
 * to `output.log.1`. So each segment stays at most half of {@link MAX_LOG_BYTES} (plus the supervisor's own short
 * lines) and one rotated copy exists, the two together at most {@link MAX_LOG_BYTES}, however fast the workload writes: a faster writer blocks on the pipe, the way it
 * would on a slow terminal. It works with GNU coreutils and busybox (`dd`, `mkfifo`, `ls`), under dash, busybox
 * ash and bash.
 *
 * **One log per version.** At start the supervisor fingerprints its spec (`argv`, `env`, `meta`, `artifacts`,
 * with `sha256sum`, else `cksum`) and compares it with `log/spec-key`: when the spec changed (a new version, a
 * rotated secret, a rollback) the old log files are removed before the first line is written. Output of a
 * previous version therefore never reaches a later `read()`, whose redaction only knows the current secrets. A
 * restart of the same version (crash, `start`) keeps its log. `spec-key` sits in the root-only (0700) log
 * directory next to `spec/env` and tells root nothing it cannot read there.
 */
export const SUPERVISOR_SH = readShellAsset(__dirname, "supervisor.sh", { "common.sh": WORKLOAD_COMMON_SH });
