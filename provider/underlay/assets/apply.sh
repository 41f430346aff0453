# apply.sh: stages and applies one change under a rollback timer (see provider/underlay/scripts.ts).
set -u
dir=$1; secs=$2
# @include cancel.sh
mkdir -p "$(dirname "$dir")" && mkdir "$dir" || exit 2
cur=/dev/null
while IFS= read -r line || [ -n "$line" ]; do
  case $line in
    '@@pulumi-dpu-file '*) cur="$dir/${line#@@pulumi-dpu-file }"; : > "$cur" ;;
    *) printf '%s\n' "$line" >> "$cur" ;;
  esac
done
cat > "$dir/restore.sh" <<'EOS'
# @include restore.sh
EOS
cat > "$dir/timer.sh" <<'EOS'
# @include timer.sh
EOS
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
  printf '%s\n' "$line" > "$dir/step.line"
  if ! ip -batch "$dir/step.line" 2>"$dir/apply.err" </dev/null; then
    printf 'failed-step\t%s\t%s\n' "$line" "$(tr '\t\n' '  ' < "$dir/apply.err")"
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
