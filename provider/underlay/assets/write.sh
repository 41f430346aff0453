# write.sh: writes stdin to a file atomically (see provider/underlay/scripts.ts).
set -eu
mkdir -p "$(dirname "$1")"
tmp="$1.tmp.$$"
cat > "$tmp"
chmod "$2" "$tmp"
mv -f "$tmp" "$1"
