# restore-now.sh: undoes a pending change at once (see provider/underlay/scripts.ts).
set -u
dir=$1
# @include cancel.sh
if ! cancel "$dir"; then echo timer; exit 4; fi
sh "$dir/restore.sh" "$dir"
cat "$dir/restore.failed" 2>/dev/null
rm -rf "$dir"
