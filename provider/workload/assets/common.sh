# common.sh: functions of both the control script and the supervisor (included in ctl.sh and supervisor.sh, see
# provider/workload/ctl-script.ts).

# kv KEY: the value of KEY in the spec's meta file ($S/meta), empty when absent.
kv() {
  v=
  [ -f "$S/meta" ] || return 0
  while IFS= read -r line || [ -n "$line" ]; do
    case $line in "$1="*) v=${line#*=} ;; esac
  done <"$S/meta"
  printf '%s' "$v"
}

# alive PID: the process exists and is neither a zombie nor dead.
alive() {
  [ -n "$1" ] || return 1
  st=
  read -r st <"/proc/$1/stat" 2>/dev/null || return 1
  st=${st##*) }
  st=${st%% *}
  case $st in Z | X | x | "") return 1 ;; esac
  return 0
}
