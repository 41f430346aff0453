# records.sh: prints every underlay record in directory $1, one `<file name><TAB><record JSON on one line>` per
# line (see provider/underlay/claims.ts).
for f in "$1"/underlay-*.json; do
  [ -f "$f" ] || continue
  printf '%s\t' "${f##*/}"
  tr -d '\n' < "$f"
  echo
done
exit 0
