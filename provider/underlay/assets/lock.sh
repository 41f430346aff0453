# lock.sh: takes the lock of one underlay for a whole apply, then ends what a killed apply left (see
# provider/underlay/scripts.ts; the lock itself is provider/ssh/assets/remote-lock.sh).
set -u
RL=$1; me=$2; lease=$3; gone=$4; staging=$5
# @include cancel.sh
# @include remote-lock.sh
rl_take "$me" "$lease" "$me" "$gone"
case $? in
  0) if [ -n "$RL_TOOK" ]; then printf 'took-over\t%s\n' "$RL_TOOK"; fi ;;
  1)
    printf 'busy\t%s\t%s\t%s\n' "$(rl_now)" "$(rl_field "$RL/holder" expires)" "$(rl_field "$RL/holder" who)"
    exit 75
    ;;
  *) exit 2 ;;
esac
for d in "$staging" "$staging".*; do
  [ -d "$d" ] || continue
  if cancel "$d"; then
    [ -f "$d/restore.sh" ] && sh "$d/restore.sh" "$d"
  elif [ -e "$d/rolling-back" ]; then
    i=0
    while [ ! -e "$d/rolled-back" ] && [ "$i" -lt 300 ]; do nap; nap; i=$((i + 1)); done
  fi
  printf 'recovered\t%s\n' "$d"
  cat "$d/restore.failed" 2>/dev/null
  rm -rf "$d"
done
echo acquired
