# settle.sh: waits up to 5 s for IPv6 duplicate address detection to end, then prints the addresses whose DAD
# failed, one `<dev> <addr/prefix>` per line (see provider/underlay/remote.ts).
i=0
while [ $i -lt 50 ] && [ -n "$(ip -6 -o addr show tentative -dadfailed 2>/dev/null)" ]; do sleep 0.1; i=$((i + 1)); done
ip -6 -o addr show dadfailed 2>/dev/null | while read -r _ dev _ addr _; do printf '%s %s\n' "${dev%%@*}" "$addr"; done
exit 0
