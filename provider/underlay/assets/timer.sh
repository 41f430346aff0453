# timer.sh: the rollback timer of one apply (see provider/underlay/scripts.ts).
d=$1; secs=$2
c=; sp=
trap 'c=1; if [ -n "$sp" ]; then kill "$sp" 2>/dev/null; fi' TERM
trap '' HUP INT
echo $$ > "$d/timer.pid.new" && mv -f "$d/timer.pid.new" "$d/timer.pid"
sleep "$secs" >/dev/null 2>&1 &
sp=$!
if [ -n "$c" ]; then kill "$sp" 2>/dev/null; fi
wait "$sp"
if [ -n "$c" ]; then wait "$sp" 2>/dev/null; exit 0; fi
mkdir "$d/claim" 2>/dev/null || exit 0
: > "$d/rolling-back"
sh "$d/restore.sh" "$d"
date +%s > "$d/rolled-back"
