# cancel.sh: functions that end a pending apply's rollback timer (see provider/underlay/scripts.ts).
nap() { sleep 0.05 2>/dev/null || sleep 1; }
alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null && ! grep -q '^[0-9]* ([^)]*) Z' "/proc/$1/stat" 2>/dev/null; }
cancel() {
  mkdir "$1/claim" 2>/dev/null || return 1
  cp=$(cat "$1/timer.pid" 2>/dev/null) || cp=
  [ -n "$cp" ] || return 0
  ck=$(cat "/proc/$cp/task/$cp/children" 2>/dev/null) || ck=
  kill "$cp" 2>/dev/null
  for k in $ck; do kill "$k" 2>/dev/null; done
  ci=0
  while alive "$cp" && [ "$ci" -lt 200 ]; do nap; ci=$((ci + 1)); done
  return 0
}
