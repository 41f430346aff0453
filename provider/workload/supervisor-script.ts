/**
 * The process-runtime supervisor: static POSIX sh text shipped by the provider and written to
 * `<workload dir>/supervisor.sh`. It is started detached with `setsid` and takes the workload directory as its
 * only argument; everything else (argv, environment, policy) is read from files as data, never evaluated.
 *
 * Layout under the workload directory:
 * - `spec/argv` one argument per line; `spec/env` `KEY=value` lines (0600, holds secret values);
 *   `spec/meta` `key=value` lines (`restart`, `workdir`, `user`).
 * - `run/supervisor.pid`, `run/child.pid`, `run/started` (epoch s), `run/restarts`, `run/exitcode`,
 *   `run/stopped` (present after a requested stop).
 * - `log/output.log` (+ one rotated `output.log.1`, each at most 1 MiB).
 */
export const SUPERVISOR_SH = `#!/bin/sh
# pulumi-dpu process supervisor. Usage: supervisor.sh <workload-dir>
set -u
W=$1
S=$W/spec
R=$W/run
L=$W/log
umask 077
mkdir -p "$R" "$L"
echo $$ >"$R/supervisor.pid"
rm -f "$R/stopped" "$R/child.pid" "$R/exitcode"
MAXLOG=1048576

kv() {
  v=
  while IFS= read -r line || [ -n "$line" ]; do
    case $line in "$1="*) v=\${line#*=} ;; esac
  done <"$S/meta"
  printf '%s' "$v"
}

alive() {
  [ -n "$1" ] || return 1
  st=
  read -r st <"/proc/$1/stat" 2>/dev/null || return 1
  st=\${st##*) }
  st=\${st%% *}
  case $st in Z | X | x | "") return 1 ;; esac
  return 0
}

rotate() {
  [ -f "$L/output.log" ] || return 0
  size=$(wc -c <"$L/output.log" 2>/dev/null || echo 0)
  if [ "$size" -gt "$MAXLOG" ]; then
    cp "$L/output.log" "$L/output.log.1" && : >"$L/output.log"
  fi
}

say() { echo "[supervisor $(date -u +%Y-%m-%dT%H:%M:%SZ)] $*" >>"$L/output.log"; }

POLICY=$(kv restart)
WORKDIR=$(kv workdir)
RUNAS=$(kv user)

start_child() {
  (
    while IFS= read -r line || [ -n "$line" ]; do
      k=\${line%%=*}
      case $k in "" | [0-9]* | *[!A-Za-z0-9_]*) continue ;; esac
      export "$k=\${line#*=}"
    done <"$S/env"
    set --
    while IFS= read -r a || [ -n "$a" ]; do set -- "$@" "$a"; done <"$S/argv"
    if [ -n "$WORKDIR" ]; then cd "$WORKDIR" || exit 126; fi
    if [ -n "$RUNAS" ] && [ "$RUNAS" != root ]; then
      if command -v setpriv >/dev/null 2>&1; then
        exec setpriv --reuid="$RUNAS" --regid="$(id -g "$RUNAS")" --init-groups -- "$@"
      fi
      exec runuser -u "$RUNAS" -- "$@"
    fi
    exec "$@"
  ) </dev/null >>"$L/output.log" 2>&1 &
  CHILD=$!
}

STOP=0
CHILD=
on_stop() {
  STOP=1
  if [ -n "$CHILD" ]; then kill -TERM "$CHILD" 2>/dev/null; fi
}
trap on_stop TERM INT HUP

RESTARTS=0
echo 0 >"$R/restarts"
while :; do
  rotate
  start_child
  echo "$CHILD" >"$R/child.pid"
  date +%s >"$R/started"
  say "started pid $CHILD (restart $RESTARTS)"
  waited=0
  while alive "$CHILD"; do
    sleep 1 &
    wait $! 2>/dev/null
    rotate
    if [ "$STOP" = 1 ]; then
      waited=$((waited + 1))
      if [ "$waited" -ge 10 ]; then kill -KILL "$CHILD" 2>/dev/null; fi
    fi
  done
  wait "$CHILD" 2>/dev/null
  rc=$?
  echo "$rc" >"$R/exitcode"
  rm -f "$R/child.pid"
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
`;
