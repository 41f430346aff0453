# read.sh: one JSON document of the DPU's network state (see provider/underlay/scripts.ts).
set -u
b64() { base64 | tr -d '\n'; }
printf '{"links":'; ip -d -json link show 2>/dev/null || printf '[]'
printf ',"addrs":'; ip -json addr show 2>/dev/null || printf '[]'
printf ',"routes4":'; ip -4 -json route show table all 2>/dev/null || printf '[]'
printf ',"routes6":'; ip -6 -json route show table all 2>/dev/null || printf '[]'
printf ',"hostname":"%s"' "$(hostname | b64)"
printf ',"resolv":"%s"' "$({ cat /etc/resolv.conf 2>/dev/null || true; } | b64)"
printf ',"record":"%s"' "$({ cat "$1" 2>/dev/null || true; } | b64)"
printf ',"sshConnection":"%s"' "$(printf %s "${SSH_CONNECTION:-}" | b64)"
np=false; [ -d /etc/netplan ] && command -v netplan >/dev/null 2>&1 && np=true
nm=false; command -v nmcli >/dev/null 2>&1 && nm=true
nd=false; { [ -x /lib/systemd/systemd-networkd ] || [ -x /usr/lib/systemd/systemd-networkd ]; } && [ -d /etc/systemd/network ] && [ -d /run/systemd/system ] && nd=true
printf ',"backends":{"netplan":%s,"networkmanager":%s,"networkd":%s}}\n' "$np" "$nm" "$nd"
