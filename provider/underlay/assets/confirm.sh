# confirm.sh: keeps an applied change (see provider/underlay/scripts.ts).
set -u
dir=$1; rec=$2
# @include cancel.sh
if ! cancel "$dir"; then echo rolled-back; exit 4; fi
if ! { mkdir -p "$(dirname "$rec")" && cp "$dir/record.json" "$rec.tmp" && mv -f "$rec.tmp" "$rec"; }; then
  sh "$dir/restore.sh" "$dir"; cat "$dir/restore.failed" 2>/dev/null; rm -rf "$dir"; exit 5
fi
rm -rf "$dir"
echo confirmed
