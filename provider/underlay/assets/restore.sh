# restore.sh: undoes the steps of one apply (see provider/underlay/scripts.ts).
d=$1
n=$(cat "$d/applied" 2>/dev/null) || n=
: > "$d/restore.failed"
undo() {
  printf '%s\n' "$1" > "$d/undo.line"
  if ! ue=$(ip -batch "$d/undo.line" 2>&1); then
    printf 'not-undone\t%s\t%s\n' "$1" "$(printf '%s' "$ue" | tr '\t\n' '  ')" >> "$d/restore.failed"
  fi
}
while IFS= read -r l || [ -n "$l" ]; do
  [ -n "$l" ] || continue
  i=${l%% *}
  if [ -z "$n" ] || [ "$i" -lt "$n" ]; then undo "${l#* }"; fi
done < "$d/restore.batch"
if [ -s "$d/hostname.old" ]; then
  hostname "$(cat "$d/hostname.old")" && cp "$d/hostname.old" /etc/hostname ||
    printf 'not-undone\thostname %s\tcould not set it\n' "$(cat "$d/hostname.old")" >> "$d/restore.failed"
fi
if [ -f "$d/resolv.old" ]; then
  cat "$d/resolv.old" > /etc/resolv.conf || printf 'not-undone\tresolv.conf\tcould not write it\n' >> "$d/restore.failed"
fi
if [ -s "$d/restore.failed" ] && [ -s "$d/record.partial" ] && [ -s "$d/record.target" ]; then
  r=$(cat "$d/record.target")
  mkdir -p "$(dirname "$r")" && cp "$d/record.partial" "$r.tmp" && mv -f "$r.tmp" "$r"
fi
:
