/**
 * Static shell scripts run on the DPU. They are constants: data reaches them only as positional arguments
 * (quoted by the transport) or on stdin, never by text substitution. POSIX sh + iproute2 + coreutils only
 * (no systemd, jq or python needed), so they run on a minimal DPU OS.
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
 * APPLY: stages the files from stdin in `$1` (apply.batch, restore.batch, hostname.new/old, resolv.new/old,
 * record.json), arms the rollback timer (a detached session: `sleep $2`, then restore, unless CONFIRM kills it),
 * then applies the batch. If the batch fails, restores at once and exits 3: nothing is left half-applied.
 */
export const APPLY_SCRIPT = `set -u
dir=$1; secs=$2
rm -rf "$dir" && mkdir -p "$dir" || exit 2
cur=/dev/null
while IFS= read -r line || [ -n "$line" ]; do
  case $line in
    '${FRAME_MARKER}'*) cur="$dir/\${line#${FRAME_MARKER}}"; : > "$cur" ;;
    *) printf '%s\\n' "$line" >> "$cur" ;;
  esac
done
cat > "$dir/restore.sh" <<'EOS'
d=$1
ip -force -batch "$d/restore.batch" >/dev/null 2>&1
if [ -s "$d/hostname.old" ]; then hostname "$(cat "$d/hostname.old")"; cp "$d/hostname.old" /etc/hostname; fi
if [ -f "$d/resolv.old" ]; then cat "$d/resolv.old" > /etc/resolv.conf; fi
:
EOS
setsid sh -c 'sleep "$2"; : > "$1/rolling-back"; sh "$1/restore.sh" "$1"; date +%s > "$1/rolled-back"' rollback "$dir" "$secs" </dev/null >/dev/null 2>&1 &
echo $! > "$dir/timer.pid"
if ! ip -batch "$dir/apply.batch" 2>"$dir/apply.err"; then
  kill -TERM -- "-$(cat "$dir/timer.pid")" 2>/dev/null
  sh "$dir/restore.sh" "$dir"
  cat "$dir/apply.err" >&2
  rm -rf "$dir"
  exit 3
fi
if [ -s "$dir/hostname.new" ]; then hostname "$(cat "$dir/hostname.new")" && cp "$dir/hostname.new" /etc/hostname; fi
if [ -f "$dir/resolv.new" ]; then cat "$dir/resolv.new" > /etc/resolv.conf; fi
echo applied
`;

/**
 * CONFIRM: kills the rollback timer, then installs the record (`$2`) and removes the staging dir (`$1`).
 * Exits 4 when the rollback already started (the change is gone; the provider reports it).
 */
export const CONFIRM_SCRIPT = `set -u
dir=$1; rec=$2
pid=$(cat "$dir/timer.pid" 2>/dev/null) && kill -TERM -- "-$pid" 2>/dev/null
if [ -e "$dir/rolling-back" ] || [ ! -d "$dir" ]; then echo rolled-back; exit 4; fi
mkdir -p "$(dirname "$rec")" && mv -f "$dir/record.json" "$rec.tmp" && mv -f "$rec.tmp" "$rec" || exit 5
rm -rf "$dir"
echo confirmed
`;

/** STATUS: prints `rolled-back`, `pending` or `gone` for staging dir `$1`. */
export const STATUS_SCRIPT = `if [ -e "$1/rolled-back" ]; then echo rolled-back; elif [ -d "$1" ]; then echo pending; else echo gone; fi
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
