import { REMOTE_LOCK_INCLUDE } from "../ssh/remote-lock";
import { readShellAsset } from "../ssh/shell-asset";

/**
 * Static shell scripts run on the DPU, loaded from `assets/*.sh` (checked by shellcheck). They are constants: data
 * reaches them only as positional arguments (quoted by the transport) or on stdin, never by text substitution.
 * They need POSIX sh, iproute2 and coreutils; `hostname` when a hostname is declared; for a tcp probe bash or
 * nc (`ping` for a ping probe, run by the provider); `setsid` when present. No systemd, jq or python. They run
 * the same under dash (Debian/Ubuntu `/bin/sh`), busybox ash and bash: no `kill -- -pgid`, no `local`, no
 * arrays, no `[[`.
 */

/** Directory of this resource's records on the DPU. */
export const RECORD_DIR = "/var/lib/pulumi-dpu/underlay";

/**
 * READ: one round trip printing one JSON document: links (with details), addresses, IPv4 and IPv6 routes of
 * every table, hostname, resolv.conf, this resource's record, SSH_CONNECTION, and which persistence backends
 * exist. Free text is base64-encoded so it cannot break the JSON. Args: `$1` record path.
 */
export const READ_SCRIPT = readShellAsset(__dirname, "read.sh");

/** Marker line that starts a file in the framed stdin of {@link APPLY_SCRIPT}. */
export const FRAME_MARKER = "@@pulumi-dpu-file ";

/**
 * Shell functions shared by the scripts that end a pending apply.
 *
 * - `nap`: a short sleep (whole seconds where `sleep` takes no fractions).
 * - `alive PID`: the process exists and is not a zombie.
 * - `cancel DIR`: claims the staging directory (`mkdir DIR/claim` is atomic, so exactly one of the timer and
 *   the provider wins), then ends the timer with a plain `kill PID` (positive pid: valid in every shell; its
 *   children too, for timers of older versions) and waits until it is gone; the timer's TERM trap ends its
 *   `sleep` first. Returns 1 when the timer claimed the
 *   directory first (the rollback runs or ran).
 */
export const CANCEL_FUNCTIONS = readShellAsset(__dirname, "cancel.sh");

/**
 * The rollback timer, written to `<staging>/timer.sh` and started detached: records its own pid, sleeps `$2`
 * seconds, then claims the staging directory `$1` and restores, unless {@link CANCEL_FUNCTIONS}' `cancel`
 * claimed it first. On TERM it ends its `sleep` and exits, so a cancelled timer leaves no process behind.
 */
export const TIMER_SCRIPT = readShellAsset(__dirname, "timer.sh");

/**
 * The restore, written to `<staging>/restore.sh`: runs every undo line of the steps applied so far (each line
 * of `restore.batch` is `<step> <ip command>`; `applied` holds the number of steps applied), one `ip` command at
 * a time so one that fails does not stop the others, then the old hostname and resolver. Every step it could
 * not undo is appended to `restore.failed` as `not-undone<TAB><command><TAB><error>`; then the record of the
 * change (`record.partial`, everything it may have left) is installed at the path in `record.target`, so the
 * next update or delete removes what is left.
 */
export const RESTORE_SCRIPT = readShellAsset(__dirname, "restore.sh");

/**
 * APPLY: creates the staging directory `$1` (unique to this apply: it must not exist), stages the files from
 * stdin there (apply.batch, restore.batch, hostname.new/old, resolv.new/old, record.json, record.partial,
 * record.target), writes restore.sh and timer.sh, arms the rollback timer (detached; `sleep $2`, then restore)
 * and waits until it runs, then applies the batch one step at a time. If a step fails, cancels the timer,
 * restores the steps applied so far at once and exits 3, printing `failed-step<TAB><command><TAB><error>` and
 * any `not-undone` lines: nothing is left half-applied that is not reported.
 */
export const APPLY_SCRIPT = readShellAsset(__dirname, "apply.sh", {
  "cancel.sh": CANCEL_FUNCTIONS,
  "restore.sh": RESTORE_SCRIPT,
  "timer.sh": TIMER_SCRIPT,
});

/**
 * CONFIRM: cancels the rollback timer of staging directory `$1` (it is gone when this returns), installs the
 * record at `$2` and removes the staging directory. Exits 4 when the timer claimed the directory first (the
 * rollback runs or ran; the provider waits for it). If the record cannot be installed, restores at once and
 * exits 5 (a change without its record could not be undone later).
 */
export const CONFIRM_SCRIPT = readShellAsset(__dirname, "confirm.sh", { "cancel.sh": CANCEL_FUNCTIONS });

/**
 * RESTORE NOW: cancels the timer of staging directory `$1`, restores at once, prints any `not-undone` lines and
 * removes the directory. Exits 4 when the timer claimed the directory first (the provider waits for it).
 */
export const RESTORE_NOW_SCRIPT = readShellAsset(__dirname, "restore-now.sh", {
  "cancel.sh": CANCEL_FUNCTIONS,
});

/**
 * STATUS: for staging directory `$1` prints `rolled-back` (then any `not-undone` lines) once the timer restored
 * and exited, `pending` while it has not, or `gone`.
 */
export const STATUS_SCRIPT = readShellAsset(__dirname, "status.sh", { "cancel.sh": CANCEL_FUNCTIONS });

/**
 * LOCK: takes the lock directory `$1` of one underlay for the whole apply: the shared DPU lock
 * (`provider/ssh/remote-lock.ts`), whose token and `who=` are both `$2`, the holder's description (one line). `$3`
 * is the lease in seconds (DPU clock), `$4` a holder the provider proved gone (empty: none). A lock whose lease
 * ended, or held by that proven-gone holder, is taken over, one taker at a time (`$1.steal`). Then the staging
 * directories `$5.*` (and `$5`, the name older versions used) that a killed provider left are ended: an unconfirmed one is
 * restored at once (its timer would do the same at the end of its window), a finished one removed; each prints
 * `recovered<TAB><dir>` and its `not-undone` lines. Prints `acquired`, or exits 75 printing
 * `busy<TAB><DPU now><TAB><lease end><TAB><holder>`.
 */
export const LOCK_SCRIPT = readShellAsset(__dirname, "lock.sh", {
  "cancel.sh": CANCEL_FUNCTIONS,
  ...REMOTE_LOCK_INCLUDE,
});

/** UNLOCK: removes the lock directory `$1` if `$2` (the holder's description, its token) still holds it. */
export const UNLOCK_SCRIPT = readShellAsset(__dirname, "unlock.sh", REMOTE_LOCK_INCLUDE);

/** WRITE: writes stdin to `$1` atomically (temp file, chmod `$2`, rename), creating the parent directory. */
export const WRITE_SCRIPT = readShellAsset(__dirname, "write.sh");

/** REMOVE: removes the files given as arguments (missing ones are fine). */
export const REMOVE_SCRIPT = readShellAsset(__dirname, "remove.sh");

/** Lists every underlay record on the DPU (`$1`: the record directory), one `<file>\t<json>` line each. */
export const RECORDS_SCRIPT = readShellAsset(__dirname, "records.sh");

/**
 * The post-apply wait that lets IPv6 duplicate address detection finish: a new IPv6 address is tentative
 * (unusable as a source) for about a second, so a probe sent at once would fail and roll back a good change.
 * Static (no input interpolated): waits up to 5 s for no tentative address, then prints the addresses whose DAD
 * failed, one `<dev> <addr/prefix>` per line.
 */
export const SETTLE_SCRIPT = readShellAsset(__dirname, "settle.sh");

/**
 * A TCP connect to `$1`:`$2` within 5 s: bash's /dev/tcp where bash exists, else nc (a minimal DPU OS with
 * busybox ash has no bash): `nc -z`, or a plain connect with stdin at EOF where nc has no `-z` (busybox).
 */
export const TCP_PROBE_SCRIPT = readShellAsset(__dirname, "tcp-probe.sh");
