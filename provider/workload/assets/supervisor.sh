#!/bin/sh
# pulumi-dpu process supervisor. Usage: supervisor.sh <workload-dir>
set -u
W=$1
S=$W/spec
R=$W/run
L=$W/log
LOG=$L/output.log
umask 077
mkdir -p "$R" "$L"
echo $$ >"$R/supervisor.pid"
rm -f "$R/stopped" "$R/child.pid" "$R/exitcode"
MAXLOG=1048576
# Two segments (output.log and output.log.1) of half the cap each: the log never takes more than MAXLOG.
SEG=$((MAXLOG / 2))
BS=4096

# @include common.sh

# Size of a file in bytes, 0 when absent. ls -ln stats it (busybox wc -c would read it all); wc -c if ls fails.
fsize() {
  [ -f "$1" ] || { printf 0; return 0; }
  f=$1
  # shellcheck disable=SC2046 # split on purpose: the fields of `ls -ln` (the size is the 5th, before the name)
  set -- $(ls -ln "$f" 2>/dev/null)
  case ${5:-} in
    "" | *[!0-9]*) n=$(wc -c <"$f" 2>/dev/null) || n=0; printf '%s' "$((n + 0))" ;;
    *) printf '%s' "$5" ;;
  esac
}

# A new version (its spec differs from the one the log was written for) starts with an empty log.
speckey() {
  if command -v sha256sum >/dev/null 2>&1; then
    cat "$S/argv" "$S/env" "$S/env.sh" "$S/meta" "$S/artifacts" 2>/dev/null | sha256sum
  else
    cat "$S/argv" "$S/env" "$S/env.sh" "$S/meta" "$S/artifacts" 2>/dev/null | cksum
  fi
}
KEY=$(speckey)
OLDKEY=
[ -f "$L/spec-key" ] && read -r OLDKEY <"$L/spec-key"
if [ "$KEY" != "$OLDKEY" ]; then
  rm -f "$LOG" "$LOG.1"
  printf '%s\n' "$KEY" >"$L/spec-key"
fi

# Copies stdin (the child's output) to the log, at most the room left in the current segment per dd, and
# starts a new segment when less than one block is left. Ends at EOF (dd read nothing).
pump() {
  while :; do
    used=$(fsize "$LOG")
    if [ $((SEG - used)) -lt "$BS" ]; then
      mv -f "$LOG" "$LOG.1" 2>/dev/null
      used=0
    fi
    rec=$(LC_ALL=C dd bs="$BS" count=$(((SEG - used) / BS)) 2>&1 >>"$LOG")
    case $rec in
      "0+0 records in"*) return 0 ;;
      *"records in"*) ;;
      *) exec cat >/dev/null ;;
    esac
  done
}

# Waits up to 2 s for the pump to copy the child's last lines (then reaps it; one kept by an orphan holding
# the pipe ends at that orphan's exit, or with the supervisor's process group).
drain() {
  i=0
  while alive "$PUMP" && [ "$i" -lt 20 ]; do sleep 0.1; i=$((i + 1)); done
  alive "$PUMP" || wait "$PUMP" 2>/dev/null
}

say() { echo "[supervisor $(date -u +%Y-%m-%dT%H:%M:%SZ)] $*" >>"$LOG"; }

POLICY=$(kv restart)
WORKDIR=$(kv workdir)
RUNAS=$(kv user)

start_child() {
  rm -f "$R/log.fifo"
  mkfifo "$R/log.fifo"
  pump <"$R/log.fifo" &
  PUMP=$!
  (
    # Everything the supervisor needs is resolved first and kept in positional parameters only; the user's
    # environment is loaded last, so that no name in it (S, WORKDIR, IFS, PATH…) can change what runs.
    set --
    while IFS= read -r a || [ -n "$a" ]; do set -- "$@" "$a"; done <"$S/argv"
    if [ -n "$WORKDIR" ]; then cd "$WORKDIR" || exit 126; fi
    # A bare command name is looked up with the supervisor's PATH (kept when not found: the user's PATH may have it).
    case ${1:-} in
      */* | "") ;;
      *)
        c=$(command -v "$1" 2>/dev/null) || c=
        case $c in /*) shift; set -- "$c" "$@" ;; esac
        ;;
    esac
    if [ -n "$RUNAS" ] && [ "$RUNAS" != root ]; then
      if command -v setpriv >/dev/null 2>&1; then
        set -- "$(command -v setpriv)" --reuid="$RUNAS" --regid="$(id -g "$RUNAS")" --init-groups -- "$@"
      else
        set -- "$(command -v runuser)" -u "$RUNAS" -- "$@"
      fi
    fi
    if [ -f "$S/env.sh" ]; then
      # `export NAME='value'` lines rendered by the provider (single-quoted literals, nothing to evaluate).
      # shellcheck disable=SC1091 # rendered per version
      . "$S/env.sh"
    elif [ -f "$S/env" ]; then
      # A version deployed by an older provider (raw KEY=value lines).
      while IFS= read -r line || [ -n "$line" ]; do
        k=${line%%=*}
        case $k in "" | [0-9]* | *[!A-Za-z0-9_]*) continue ;; esac
        export "$k=${line#*=}"
      done <"$S/env"
    fi
    exec "$@"
  ) </dev/null >"$R/log.fifo" 2>&1 &
  CHILD=$!
}

STOP=0
CHILD=
PUMP=
on_stop() {
  STOP=1
  if [ -n "$CHILD" ]; then kill -TERM "$CHILD" 2>/dev/null; fi
}
trap on_stop TERM INT HUP

RESTARTS=0
echo 0 >"$R/restarts"
while :; do
  start_child
  echo "$CHILD" >"$R/child.pid"
  date +%s >"$R/started"
  say "started pid $CHILD (restart $RESTARTS)"
  waited=0
  while alive "$CHILD"; do
    sleep 1 &
    wait $! 2>/dev/null
    if [ "$STOP" = 1 ]; then
      waited=$((waited + 1))
      if [ "$waited" -ge 10 ]; then kill -KILL "$CHILD" 2>/dev/null; fi
    fi
  done
  wait "$CHILD" 2>/dev/null
  rc=$?
  echo "$rc" >"$R/exitcode"
  rm -f "$R/child.pid"
  drain
  say "pid $CHILD exited with status $rc"
  [ "$STOP" = 1 ] && break
  case $POLICY in
    no) break ;;
    on-failure) [ "$rc" -eq 0 ] && break ;;
  esac
  RESTARTS=$((RESTARTS + 1))
  echo "$RESTARTS" >"$R/restarts"
  delay=$((RESTARTS < 5 ? 1 << RESTARTS : 30))
  while [ "$delay" -gt 0 ] && [ "$STOP" = 0 ]; do
    sleep 1 &
    wait $! 2>/dev/null
    delay=$((delay - 1))
  done
  [ "$STOP" = 1 ] && break
done
if [ "$STOP" = 1 ]; then : >"$R/stopped"; say "stopped on request"; fi
rm -f "$R/supervisor.pid"
exit 0
