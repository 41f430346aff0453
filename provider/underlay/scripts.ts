/**
 * Static shell scripts run on the DPU. They are constants: data reaches them only as positional arguments
 * (quoted by the transport) or on stdin, never by text substitution. POSIX sh + iproute2 + coreutils only
 * (no systemd, jq or python needed), and they run the same under dash (Debian/Ubuntu `/bin/sh`), busybox ash and
 * bash: no `kill -- -pgid`, no `local`, no arrays, no `[[`.
 */

/** Directory of this resource's records on the DPU. */
export const RECORD_DIR = "/var/lib/pulumi-dpu/underlay";

/**
 * READ: one round trip printing one JSON document: links (with details), addresses, IPv4 and IPv6 routes of
 * every table, hostname, resolv.conf, this resource's record, SSH_CONNECTION, and which persistence backends
 * exist. Free text is base64-encoded so it cannot break the JSON. Args: `$1` record path.
 */
export const READ_SCRIPT = `set -u
b64() { base64 | tr -d '\\n'; }
printf '{"links":'; ip -d -json link show 2>/dev/null || printf '[]'
printf ',"addrs":'; ip -json addr show 2>/dev/null || printf '[]'
printf ',"routes4":'; ip -4 -json route show table all 2>/dev/null || printf '[]'
printf ',"routes6":'; ip -6 -json route show table all 2>/dev/null || printf '[]'
printf ',"hostname":"%s"' "$(hostname | b64)"
printf ',"resolv":"%s"' "$({ cat /etc/resolv.conf 2>/dev/null || true; } | b64)"
printf ',"record":"%s"' "$({ cat "$1" 2>/dev/null || true; } | b64)"
printf ',"sshConnection":"%s"' "$(printf %s "\${SSH_CONNECTION:-}" | b64)"
np=false; [ -d /etc/netplan ] && command -v netplan >/dev/null 2>&1 && np=true
nm=false; command -v nmcli >/dev/null 2>&1 && nm=true
nd=false; { [ -x /lib/systemd/systemd-networkd ] || [ -x /usr/lib/systemd/systemd-networkd ]; } && [ -d /etc/systemd/network ] && [ -d /run/systemd/system ] && nd=true
printf ',"backends":{"netplan":%s,"networkmanager":%s,"networkd":%s}}\\n' "$np" "$nm" "$nd"
`;

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
export const CANCEL_FUNCTIONS = `nap() { sleep 0.05 2>/dev/null || sleep 1; }
alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null && ! grep -q '^[0-9]* ([^)]*) Z' "/proc/$1/stat" 2>/dev/null; }
cancel() {
  mkdir "$1/claim" 2>/dev/null || return 1
  cp=$(cat "$1/timer.pid" 2>/dev/null) || cp=
  [ -n "$cp" ] || return 0
  ck=$(cat "/proc/$cp/task/$cp/children" 2>/dev/null) || ck=
  kill "$cp" 2>/dev/null
  for k in $ck; do kill "$k" 2>/dev/null; done
  ci=0
  while alive "$cp" && [ "$ci" -lt 200 ]; do nap; ci=$((ci + 1)); done
  return 0
}`;

/**
 * The rollback timer, written to `<staging>/timer.sh` and started detached: records its own pid, sleeps `$2`
 * seconds, then claims the staging directory `$1` and restores, unless {@link CANCEL_FUNCTIONS}' `cancel`
 * claimed it first. On TERM it ends its `sleep` and exits, so a cancelled timer leaves no process behind.
 */
export const TIMER_SCRIPT = `d=$1; secs=$2
c=; sp=
trap 'c=1; if [ -n "$sp" ]; then kill "$sp" 2>/dev/null; fi' TERM
trap '' HUP INT
echo $$ > "$d/timer.pid.new" && mv -f "$d/timer.pid.new" "$d/timer.pid"
sleep "$secs" </dev/null >/dev/null 2>&1 &
sp=$!
if [ -n "$c" ]; then kill "$sp" 2>/dev/null; fi
wait "$sp"
if [ -n "$c" ]; then wait "$sp" 2>/dev/null; exit 0; fi
mkdir "$d/claim" 2>/dev/null || exit 0
: > "$d/rolling-back"
sh "$d/restore.sh" "$d"
date +%s > "$d/rolled-back"
`;

/**
 * The restore, written to `<staging>/restore.sh`: runs every undo line of the steps applied so far (each line
 * of `restore.batch` is `<step> <ip command>`; `applied` holds the number of steps applied), one `ip` command at
 * a time so one that fails does not stop the others, then the old hostname and resolver. Every step it could
 * not undo is appended to `restore.failed` as `not-undone<TAB><command><TAB><error>`; then the record of the
 * change (`record.partial`, everything it may have left) is installed at the path in `record.target`, so the
 * next update or delete removes what is left.
 */
export const RESTORE_SCRIPT = `d=$1
n=$(cat "$d/applied" 2>/dev/null) || n=
: > "$d/restore.failed"
undo() {
  printf '%s\\n' "$1" > "$d/undo.line"
  if ! ue=$(ip -batch "$d/undo.line" 2>&1); then
    printf 'not-undone\\t%s\\t%s\\n' "$1" "$(printf '%s' "$ue" | tr '\\t\\n' '  ')" >> "$d/restore.failed"
  fi
}
while IFS= read -r l || [ -n "$l" ]; do
  [ -n "$l" ] || continue
  i=\${l%% *}
  if [ -z "$n" ] || [ "$i" -lt "$n" ]; then undo "\${l#* }"; fi
done < "$d/restore.batch"
if [ -s "$d/hostname.old" ]; then
  hostname "$(cat "$d/hostname.old")" && cp "$d/hostname.old" /etc/hostname ||
    printf 'not-undone\\thostname %s\\tcould not set it\\n' "$(cat "$d/hostname.old")" >> "$d/restore.failed"
fi
if [ -f "$d/resolv.old" ]; then
  cat "$d/resolv.old" > /etc/resolv.conf || printf 'not-undone\\tresolv.conf\\tcould not write it\\n' >> "$d/restore.failed"
fi
if [ -s "$d/restore.failed" ] && [ -s "$d/record.partial" ] && [ -s "$d/record.target" ]; then
  r=$(cat "$d/record.target")
  mkdir -p "$(dirname "$r")" && cp "$d/record.partial" "$r.tmp" && mv -f "$r.tmp" "$r"
fi
:
`;

/**
 * APPLY: creates the staging directory `$1` (unique to this apply: it must not exist), stages the files from
 * stdin there (apply.batch, restore.batch, hostname.new/old, resolv.new/old, record.json, record.partial,
 * record.target), writes restore.sh and timer.sh, arms the rollback timer (detached; `sleep $2`, then restore)
 * and waits until it runs, then applies the batch one step at a time. If a step fails, cancels the timer,
 * restores the steps applied so far at once and exits 3, printing `failed-step<TAB><command><TAB><error>` and
 * any `not-undone` lines: nothing is left half-applied that is not reported.
 */
export const APPLY_SCRIPT = `set -u
dir=$1; secs=$2
${CANCEL_FUNCTIONS}
mkdir -p "$(dirname "$dir")" && mkdir "$dir" || exit 2
cur=/dev/null
while IFS= read -r line || [ -n "$line" ]; do
  case $line in
    '${FRAME_MARKER}'*) cur="$dir/\${line#${FRAME_MARKER}}"; : > "$cur" ;;
    *) printf '%s\\n' "$line" >> "$cur" ;;
  esac
done
cat > "$dir/restore.sh" <<'EOS'
${RESTORE_SCRIPT}EOS
cat > "$dir/timer.sh" <<'EOS'
${TIMER_SCRIPT}EOS
echo 0 > "$dir/applied"
if command -v setsid >/dev/null 2>&1; then
  setsid sh "$dir/timer.sh" "$dir" "$secs" </dev/null >/dev/null 2>&1 &
else
  sh "$dir/timer.sh" "$dir" "$secs" </dev/null >/dev/null 2>&1 &
fi
i=0
while [ ! -s "$dir/timer.pid" ] && [ "$i" -lt 200 ]; do nap; i=$((i + 1)); done
if [ ! -s "$dir/timer.pid" ]; then echo "could not start the rollback timer" >&2; exit 2; fi
n=0
while IFS= read -r line || [ -n "$line" ]; do
  [ -n "$line" ] || continue
  printf '%s\\n' "$line" > "$dir/step.line"
  if ! ip -batch "$dir/step.line" 2>"$dir/apply.err" </dev/null; then
    printf 'failed-step\\t%s\\t%s\\n' "$line" "$(tr '\\t\\n' '  ' < "$dir/apply.err")"
    if cancel "$dir"; then
      sh "$dir/restore.sh" "$dir" </dev/null
    else
      i=0
      while [ ! -e "$dir/rolled-back" ] && [ "$i" -lt 600 ]; do nap; nap; i=$((i + 1)); done
    fi
    cat "$dir/restore.failed" 2>/dev/null
    cat "$dir/apply.err" >&2
    rm -rf "$dir"
    exit 3
  fi
  n=$((n + 1)); echo "$n" > "$dir/applied"
done < "$dir/apply.batch"
if [ -s "$dir/hostname.new" ]; then hostname "$(cat "$dir/hostname.new")" && cp "$dir/hostname.new" /etc/hostname; fi
if [ -f "$dir/resolv.new" ]; then cat "$dir/resolv.new" > /etc/resolv.conf; fi
echo applied
`;

/**
 * CONFIRM: cancels the rollback timer of staging directory `$1` (it is gone when this returns), installs the
 * record at `$2` and removes the staging directory. Exits 4 when the timer claimed the directory first (the
 * rollback runs or ran; the provider waits for it). If the record cannot be installed, restores at once and
 * exits 5 (a change without its record could not be undone later).
 */
export const CONFIRM_SCRIPT = `set -u
dir=$1; rec=$2
${CANCEL_FUNCTIONS}
if ! cancel "$dir"; then echo rolled-back; exit 4; fi
if ! { mkdir -p "$(dirname "$rec")" && cp "$dir/record.json" "$rec.tmp" && mv -f "$rec.tmp" "$rec"; }; then
  sh "$dir/restore.sh" "$dir"; cat "$dir/restore.failed" 2>/dev/null; rm -rf "$dir"; exit 5
fi
rm -rf "$dir"
echo confirmed
`;

/**
 * RESTORE NOW: cancels the timer of staging directory `$1`, restores at once, prints any `not-undone` lines and
 * removes the directory. Exits 4 when the timer claimed the directory first (the provider waits for it).
 */
export const RESTORE_NOW_SCRIPT = `set -u
dir=$1
${CANCEL_FUNCTIONS}
if ! cancel "$dir"; then echo timer; exit 4; fi
sh "$dir/restore.sh" "$dir"
cat "$dir/restore.failed" 2>/dev/null
rm -rf "$dir"
`;

/**
 * STATUS: for staging directory `$1` prints `rolled-back` (then any `not-undone` lines) once the timer restored
 * and exited, `pending` while it has not, or `gone`.
 */
export const STATUS_SCRIPT = `${CANCEL_FUNCTIONS}
if [ ! -d "$1" ]; then echo gone
elif [ -e "$1/rolled-back" ] && ! alive "$(cat "$1/timer.pid" 2>/dev/null)"; then echo rolled-back; cat "$1/restore.failed" 2>/dev/null
else echo pending; fi
exit 0
`;

/**
 * LOCK: takes the lock directory `$1` of one underlay for the whole apply (`mkdir` is atomic). `$2` is the
 * holder's description (one line), `$3` the lease in seconds (DPU clock), `$4` a holder the provider proved gone
 * (empty: none). A lock whose lease ended, or held by that proven-gone holder, is taken over, one taker at a time
 * (`$1.steal`). Then the staging directories `$5.*` (and `$5`, the name older versions used) that a killed provider left are ended: an unconfirmed one is
 * restored at once (its timer would do the same at the end of its window), a finished one removed; each prints
 * `recovered<TAB><dir>` and its `not-undone` lines. Prints `acquired`, or exits 75 printing
 * `busy<TAB><DPU now><TAB><lease end><TAB><holder>`.
 */
export const LOCK_SCRIPT = `set -u
lock=$1; me=$2; lease=$3; gone=$4; staging=$5
${CANCEL_FUNCTIONS}
mkdir -p "$(dirname "$lock")" || exit 2
now=$(date +%s)
if ! mkdir "$lock" 2>/dev/null; then
  held=$(cat "$lock/holder" 2>/dev/null) || held=
  until=$(cat "$lock/expires" 2>/dev/null) || until=
  stale=
  case $until in
    '' | *[!0-9]*) [ -z "$held" ] && [ -n "$(find "$lock" -maxdepth 0 -mmin +1 2>/dev/null)" ] && stale=1 ;;
    *) [ "$now" -gt "$until" ] && stale=1 ;;
  esac
  [ -n "$gone" ] && [ "$gone" = "$held" ] && stale=1
  [ -d "$lock.steal" ] && [ -n "$(find "$lock.steal" -maxdepth 0 -mmin +1 2>/dev/null)" ] && rmdir "$lock.steal" 2>/dev/null
  taken=
  if [ -n "$stale" ] && mkdir "$lock.steal" 2>/dev/null; then
    if [ "$(cat "$lock/holder" 2>/dev/null)" = "$held" ]; then
      rm -rf "$lock" && mkdir "$lock" 2>/dev/null && taken=1 && printf 'took-over\\t%s\\n' "$held"
    fi
    rmdir "$lock.steal"
  fi
  if [ -z "$taken" ]; then printf 'busy\\t%s\\t%s\\t%s\\n' "$now" "$until" "$held"; exit 75; fi
fi
printf '%s\\n' "$me" > "$lock/holder"
echo $((now + lease)) > "$lock/expires"
for d in "$staging" "$staging".*; do
  [ -d "$d" ] || continue
  if cancel "$d"; then
    [ -f "$d/restore.sh" ] && sh "$d/restore.sh" "$d"
  elif [ -e "$d/rolling-back" ]; then
    i=0
    while [ ! -e "$d/rolled-back" ] && [ "$i" -lt 300 ]; do nap; nap; i=$((i + 1)); done
  fi
  printf 'recovered\\t%s\\n' "$d"
  cat "$d/restore.failed" 2>/dev/null
  rm -rf "$d"
done
echo acquired
`;

/** UNLOCK: removes the lock directory `$1` if `$2` still holds it. */
export const UNLOCK_SCRIPT = `if [ "$(cat "$1/holder" 2>/dev/null)" = "$2" ]; then rm -rf "$1"; fi
exit 0
`;

/** WRITE: writes stdin to `$1` atomically (temp file, chmod `$2`, rename), creating the parent directory. */
export const WRITE_SCRIPT = `set -eu
mkdir -p "$(dirname "$1")"
tmp="$1.tmp.$$"
cat > "$tmp"
chmod "$2" "$tmp"
mv -f "$tmp" "$1"
`;

/** REMOVE: removes the files given as arguments (missing ones are fine). */
export const REMOVE_SCRIPT = `for f in "$@"; do rm -f -- "$f"; done
`;
