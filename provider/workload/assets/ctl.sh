# ctl.sh: the workload control script (see provider/workload/ctl-script.ts).
set -u
ACTION=$1
ROOT=$2
NAME=$3
RT=$4
shift 4
W=$ROOT/$NAME
S=$W/spec
R=$W/run
UNIT=pulumi-dpu-$NAME.service
CTR=pulumi-dpu-$NAME
UNITFILE=/etc/systemd/system/$UNIT
umask 077

# @include ctl-lock.sh

has() { command -v "$1" >/dev/null 2>&1; }

# @include common.sh
num() {
  case ${1:-} in "" | *[!0-9]*) printf null ;; *) printf '%s' "$1" ;; esac
}

readpid() {
  p=
  [ -f "$1" ] && read -r p <"$1" 2>/dev/null
  case $p in "" | *[!0-9]*) p= ;; esac
  printf '%s' "$p"
}

sup_pid() {
  p=$(readpid "$R/supervisor.pid")
  if [ -n "$p" ] && alive "$p" && tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -qF "supervisor.sh $W"; then
    printf '%s' "$p"
  fi
}

sha() {
  if [ -f "$1" ]; then
    s=$(sha256sum "$1" 2>/dev/null)
    s=${s%% *}
    case $s in *[!0-9a-f]* | "") printf '%s' - ;; *) printf '%s' "$s" ;; esac
  else
    printf '%s' -
  fi
}

# sha256 of an artifact, remembered per (inode, size, mtime, ctime) in run/sha.cache so that status does not
# re-read a large file on every poll; any change of the file changes the key.
cached_sha() {
  key=$(stat -c '%d:%i:%s:%y:%z' "$1" 2>/dev/null) || { printf '%s' -; return 0; }
  cf=$R/sha.cache
  if [ -f "$cf" ]; then
    while IFS= read -r cl || [ -n "$cl" ]; do
      case $cl in "$key $1 "*) printf '%s' "${cl##* }"; return 0 ;; esac
    done <"$cf"
  fi
  cs=$(sha "$1")
  if [ "$cs" != - ] && [ -d "$R" ]; then
    { grep -vF " $1 " "$cf" 2>/dev/null; printf '%s %s %s\n' "$key" "$1" "$cs"; } >"$cf.$$" && mv -f "$cf.$$" "$cf"
  fi
  printf '%s' "$cs"
}

stop_process() {
  sp=$(sup_pid)
  if [ -n "$sp" ]; then
    kill -TERM "$sp" 2>/dev/null
    i=0
    while alive "$sp" && [ "$i" -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
    kill -KILL "-$sp" 2>/dev/null
  fi
  cp=$(readpid "$R/child.pid")
  if [ -n "$cp" ] && alive "$cp"; then
    kill -KILL "-$cp" 2>/dev/null
    kill -KILL "$cp" 2>/dev/null
  fi
  # Supervisors of this workload that no pid file names any more (left by an apply cut short).
  for pf in $(grep -lsF "$W/supervisor.sh" /proc/[0-9]*/cmdline 2>/dev/null); do
    op=${pf#/proc/}
    op=${op%/cmdline}
    case $(tr '\0' ' ' 2>/dev/null <"$pf") in
      *" $W/supervisor.sh $W ") kill -KILL "-$op" 2>/dev/null; kill -KILL "$op" 2>/dev/null ;;
    esac
  done
  mkdir -p "$R"
  : >"$R/stopped"
  rm -f "$R/supervisor.pid" "$R/child.pid"
}

stop_rt() {
  case $RT in
    process) stop_process ;;
    systemd) has systemctl && [ -f "$UNITFILE" ] && systemctl stop "$UNIT" >/dev/null 2>&1 ;;
    podman) has podman && podman stop -t 10 "$CTR" >/dev/null 2>&1 ;;
  esac
  return 0
}

apply_modes() {
  [ -f "$S/artifacts" ] || return 0
  while IFS= read -r line || [ -n "$line" ]; do
    mode=${line%% *}
    path=${line#* }
    [ -f "$path" ] && chmod "$mode" "$path"
  done <"$S/artifacts"
}

start_rt() {
  apply_modes
  case $RT in
    process)
      stop_process
      rm -f "$R/stopped"
      mkdir -p "$W/log"
      setsid sh "$W/supervisor.sh" "$W" </dev/null >/dev/null 2>&1 &
      i=0
      while [ ! -f "$R/child.pid" ] && [ "$i" -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
      ;;
    systemd)
      install -m 0644 "$S/unit" "$UNITFILE" || exit 1
      systemctl daemon-reload || exit 1
      systemctl enable "$UNIT" >/dev/null 2>&1 || exit 1
      systemctl restart "$UNIT" || exit 1
      ;;
    podman)
      podman rm -f "$CTR" >/dev/null 2>&1
      set --
      while IFS= read -r a || [ -n "$a" ]; do set -- "$@" "$a"; done <"$S/podman.argv"
      podman "$@" >/dev/null || exit 1
      ;;
  esac
}

health() {
  kind=$(kv health)
  t=$(kv healthtimeout)
  [ -n "$t" ] || t=2
  case $kind in
    "") printf none ;;
    tcp)
      port=$(kv healthport)
      if has bash; then
        if timeout "$t" bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' probe "$port" 2>/dev/null; then printf ok; else printf fail; fi
      elif has nc; then
        # busybox nc has no -z: it connects and, its stdin at EOF, exits 0 (refused: 1).
        if timeout "$t" nc -z -w "$t" 127.0.0.1 "$port" </dev/null >/dev/null 2>&1 ||
          timeout "$t" nc -w "$t" 127.0.0.1 "$port" </dev/null >/dev/null 2>&1; then printf ok; else printf fail; fi
      else
        printf 'error:no bash or nc on the DPU for a TCP probe'
      fi
      ;;
    http)
      url=$(kv healthurl)
      if has curl; then
        if curl -fsS -o /dev/null -m "$t" "$url" 2>/dev/null; then printf ok; else printf fail; fi
      elif has wget; then
        if wget -q -O /dev/null -T "$t" "$url" 2>/dev/null; then printf ok; else printf fail; fi
      else
        printf 'error:no curl or wget on the DPU for an HTTP probe'
      fi
      ;;
    command)
      (
        set --
        while IFS= read -r a || [ -n "$a" ]; do set -- "$@" "$a"; done <"$S/health.argv"
        wd=$(kv workdir)
        if [ -n "$wd" ]; then cd "$wd" 2>/dev/null || exit 1; fi
        exec timeout "$t" "$@"
      ) </dev/null >/dev/null 2>&1 && printf ok || printf fail
      ;;
    *) printf 'error:unknown health kind' ;;
  esac
}

logtail() {
  n=$1
  case $RT in
    process) tail -c 65536 "$W/log/output.log" 2>/dev/null | tail -n "$n" ;;
    systemd)
      # The current invocation only: the journal outlives versions, and an older one may print rotated secrets.
      inv=$(systemctl show -p InvocationID --value "$UNIT" 2>/dev/null)
      [ -n "$inv" ] && journalctl "_SYSTEMD_INVOCATION_ID=$inv" + "INVOCATION_ID=$inv" -n "$n" --no-pager -o cat 2>/dev/null
      ;;
    podman) podman logs --tail "$n" "$CTR" 2>&1 ;;
  esac | tail -c 8192 | base64 | tr -d '\n'
}

status() {
  want_health=$1
  lines=$2
  if [ ! -d "$S" ]; then
    # A switch in progress (or cut short) has moved the spec aside: the workload still exists.
    if [ -d "$W/spec.old" ]; then
      S=$W/spec.old
    elif [ -d "$W/previous/spec" ]; then
      S=$W/previous/spec
    else
      printf '{"present":false}\n'
      return 0
    fi
  fi
  state=failed pid='' cid='' started='' restarts='' imgdigest='' exitcode=''
  case $RT in
    process)
      sp=$(sup_pid)
      cp=$(readpid "$R/child.pid")
      restarts=$(readpid "$R/restarts")
      exitcode=$(readpid "$R/exitcode")
      if [ -n "$sp" ] && [ -n "$cp" ] && alive "$cp"; then
        state=running pid=$cp started=$(readpid "$R/started")
      elif [ -z "$sp" ] && [ -f "$R/stopped" ]; then
        state=stopped
      elif [ -z "$sp" ] && [ "$exitcode" = 0 ]; then
        state=stopped
      fi
      ;;
    systemd)
      if has systemctl && [ -f "$UNITFILE" ]; then
        as='' res='' ts=''
        while IFS= read -r line; do
          case $line in
            ActiveState=*) as=${line#*=} ;;
            Result=*) res=${line#*=} ;;
            MainPID=*) pid=${line#*=} ;;
            NRestarts=*) restarts=${line#*=} ;;
            ExecMainStartTimestamp=*) ts=${line#*=} ;;
          esac
        done <<EOT
$(systemctl show -p ActiveState -p Result -p MainPID -p NRestarts -p ExecMainStartTimestamp "$UNIT" 2>/dev/null)
EOT
        case $as in
          active) state=running ;;
          inactive) if [ "$res" = success ]; then state=stopped; fi ;;
        esac
        [ "$pid" = 0 ] && pid=
        [ -n "$ts" ] && started=$(date -d "$ts" +%s 2>/dev/null)
      fi
      ;;
    podman)
      if has podman; then
        info=$(podman inspect --type container --format '{{.State.Status}} {{.State.Pid}} {{.Id}} {{.State.StartedAt.Unix}} {{.RestartCount}} {{.ImageDigest}} {{.State.ExitCode}}' "$CTR" 2>/dev/null)
        set -- $info
        if [ $# -ge 7 ]; then
          case $1 in running) state=running ;; exited | stopped) [ "$7" = 0 ] && state=stopped ;; esac
          pid=$2 cid=$3 started=$4 restarts=$5 imgdigest=$6 exitcode=$7
          [ "$pid" = 0 ] && pid=
          case $cid in *[!0-9a-f]*) cid= ;; esac
          case $imgdigest in sha256:*) case ${imgdigest#sha256:} in *[!0-9a-f]*) imgdigest= ;; esac ;; *) imgdigest= ;; esac
        fi
      fi
      ;;
  esac
  arts=
  if [ -f "$S/artifacts" ]; then
    while IFS= read -r line || [ -n "$line" ]; do
      arts="$arts${arts:+,}\"$(cached_sha "${line#* }")\""
    done <"$S/artifacts"
  fi
  h=skipped
  if [ "$want_health" = 1 ] && [ "$state" = running ]; then h=$(health); fi
  case $h in ok | fail | none | skipped) ;; error:*) h=$(printf '%s' "$h" | tr -cd 'A-Za-z0-9 :._-') ;; *) h=fail ;; esac
  tail=
  if [ "$lines" -gt 0 ] 2>/dev/null; then tail=$(logtail "$lines"); fi
  # The recorded definition (argv and meta, never the env file): read() reports what really runs.
  sargv=$(base64 <"$S/argv" 2>/dev/null | tr -d '\n')
  smeta=$(base64 <"$S/meta" 2>/dev/null | tr -d '\n')
  sarts=$(spec_dests "$S/artifacts" | base64 | tr -d '\n')
  printf '{"present":true,"status":"%s","pid":%s,"containerId":"%s","startedAt":%s,"restarts":%s,"exitCode":%s,"imageDigest":"%s","artifacts":[%s],"health":"%s","logTail":"%s","argv":"%s","meta":"%s","paths":"%s"}\n' \
    "$state" "$(num "$pid")" "$cid" "$(num "$started")" "$(num "$restarts")" "$(num "$exitcode")" "$imgdigest" "$arts" "$h" "$tail" "$sargv" "$smeta" "$sarts"
}

spec_dests() {
  [ -f "$1" ] || return 0
  while IFS= read -r sl || [ -n "$sl" ]; do printf '%s\n' "${sl#* }"; done <"$1"
}

switch_dests() {
  [ -f "$1" ] || return 0
  while IFS= read -r sl || [ -n "$sl" ]; do
    sl=${sl#* }
    printf '%s\n' "${sl#* }"
  done <"$1"
}

restore_previous() {
  P=$W/previous
  keep=$W/.keep
  spec_dests "$P/spec/artifacts" >"$keep"
  i=0
  while IFS= read -r p || [ -n "$p" ]; do
    if [ -f "$P/artifacts/$i" ]; then
      mkdir -p "${p%/*}"
      cp -p "$P/artifacts/$i" "$p.pulumi-dpu-rollback" && mv -f "$p.pulumi-dpu-rollback" "$p"
    fi
    i=$((i + 1))
  done <"$keep"
  while IFS= read -r p || [ -n "$p" ]; do
    grep -qxF -- "$p" "$keep" || release "$p"
  done <"$1"
  rm -f "$keep"
  rm -rf "$S" "$W/spec.old"
  cp -a "$P/spec" "$S"
}

recover() {
  mkdir -p "$W" || exit 1
  if [ -f "$W/switching" ]; then
    stop_rt
    cur=$W/.current
    { switch_dests "$W/switching"; spec_dests "$S/artifacts"; } | sort -u >"$cur"
    if [ -d "$W/previous/spec" ]; then
      restore_previous "$cur"
      start_rt
      echo "note undid a version switch cut short; the previous version runs again"
    else
      while IFS= read -r p || [ -n "$p" ]; do release "$p"; done <"$cur"
      rm -rf "$S" "$W/spec.old"
      echo "note undid a first deployment cut short"
    fi
    rm -f "$cur" "$W/switching"
  fi
  cleanup_staged
}

# each_dest FN <dest> <overwrite 0|1>…: FN <i> <dest> <overwrite> for each pair; 1 when FN failed for any.
each_dest() {
  ef=$1
  shift
  ei=0
  eb=0
  while [ $# -ge 2 ]; do
    "$ef" "$ei" "$1" "$2" || eb=1
    ei=$((ei + 1))
    shift 2
  done
  return "$eb"
}

# Records a destination as pending (its leftovers are removed by the next run), clears leftovers, checks it.
check_dest() {
  printf '%s\n' "$2" >>"$W/pending"
  cleanup_dest "$2"
  check_claim "$1" "$2" "$3"
}

print_sha() { echo "sha $1 $(sha "$2")"; }

# owner_check MODE OWNER STATE_OWNER: who owns the workload already on the DPU (`owner=` in its spec's meta). For
# a create, a workload recorded with another owner (or with one while none is given) is refused (exit 77); one
# without a recorded owner (an older version) or with this owner (a retried create) is adopted. An update is
# refused the same way (exit 77) unless the recorded owner is this one or the one in the resource's state (a
# hand-over). For a delete, a workload recorded with another owner is not ours to remove (exit 78). Checked
# before anything is recovered, so a refusal changes nothing.
owner_check() {
  [ -n "$1" ] && [ -d "$S" ] || return 0
  rec=$(kv owner)
  [ -n "$rec" ] && [ "$rec" != "$2" ] || return 0
  [ "$1" = update ] && [ "$rec" = "$3" ] && return 0
  printf 'owner %s\n' "$rec" | tr -cd '\040-\176\n'
  case $1 in create | update) exit 77 ;; delete) exit 78 ;; esac
  return 0
}

prepare() {
  lock "$1" "$2" "$3" "$4"
  shift 4
  omode=$1
  owho=$2
  oprev=$3
  shift 3
  owner_check "$omode" "$owho" "$oprev"
  recover
  : >"$W/pending"
  each_dest check_dest "$@" || exit 65
  each_dest claim "$@" || exit 65
  each_dest print_sha "$@"
}

switch_version() {
  then_=$1
  tok=$2
  trap '' HUP PIPE
  ST=$W/stage-$tok
  rm -rf "$ST"
  mkdir -p "$ST" || exit 1
  tar -x -f - -C "$ST" --no-same-owner || { rm -rf "$ST"; exit 1; }
  i=0
  while IFS= read -r sl || [ -n "$sl" ]; do
    st_=${sl%% * *}
    rest=${sl#* }
    sh_=${rest%% *}
    if [ "$st_" = 1 ] && [ "$(sha "$(staged_path "${rest#* }" "$tok")")" != "$sh_" ]; then
      echo "badstage $i"
      rm -rf "$ST"
      exit 65
    fi
    i=$((i + 1))
  done <"$ST/switch"
  # Verified: from here on the workload's run directory is needed (not before, so a refused apply leaves none).
  mkdir -p "$R" || { rm -rf "$ST"; exit 1; }
  rm -rf "$W/previous"
  if [ -f "$S/argv" ] || [ -f "$S/podman.argv" ]; then
    mkdir -p "$W/previous/artifacts"
    cp -a "$S" "$W/previous/spec"
    i=0
    while IFS= read -r p || [ -n "$p" ]; do
      if [ -f "$p" ]; then
        ln -f "$p" "$W/previous/artifacts/$i" 2>/dev/null || cp -p "$p" "$W/previous/artifacts/$i"
      fi
      i=$((i + 1))
    done <<EOT
$(spec_dests "$S/artifacts")
EOT
  fi
  cp "$ST/switch" "$W/switching.tmp" && mv -f "$W/switching.tmp" "$W/switching"
  while IFS= read -r sl || [ -n "$sl" ]; do
    rest=${sl#* }
    [ "${sl%% *}" = 1 ] && mv -f "$(staged_path "${rest#* }" "$tok")" "${rest#* }"
  done <"$ST/switch"
  rm -rf "$W/spec.old"
  [ -d "$S" ] && mv "$S" "$W/spec.old"
  mv "$ST/spec" "$S"
  [ -f "$ST/supervisor.sh" ] && mv -f "$ST/supervisor.sh" "$W/supervisor.sh"
  rm -f "$W/switching"
  rm -rf "$W/spec.old" "$ST" "$W/pending"
  # Switched. The workload must not inherit ignored signals (a shell cannot trap what it started with ignored).
  trap - HUP PIPE
  if [ "$then_" = stop ]; then stop_rt; else start_rt; fi
}

rollback() {
  [ -d "$W/previous/spec" ] || exit 3
  stop_rt
  cur=$W/.current
  spec_dests "$S/artifacts" >"$cur"
  restore_previous "$cur"
  rm -f "$cur"
  rm -rf "$W/previous"
  start_rt
}

remove() {
  stop_rt
  case $RT in
    systemd)
      if has systemctl; then
        systemctl disable "$UNIT" >/dev/null 2>&1
        rm -f "$UNITFILE"
        systemctl daemon-reload >/dev/null 2>&1
        systemctl reset-failed "$UNIT" >/dev/null 2>&1
      else
        rm -f "$UNITFILE"
      fi
      ;;
    podman) has podman && podman rm -f "$CTR" >/dev/null 2>&1 ;;
  esac
  cleanup_staged
  # Each path once (the current and the previous version often share it): a restored backup stays.
  mkdir -p "$W"
  { spec_dests "$S/artifacts"; spec_dests "$W/previous/spec/artifacts"; } | sort -u >"$W/.current"
  while IFS= read -r p || [ -n "$p" ]; do release "$p"; done <"$W/.current"
  release_all
  rm -rf "$W"
  return 0
}

# setowner OWNER: records the owner in the current spec's meta (a workload deployed before owners existed).
setowner() {
  [ -f "$S/meta" ] || return 0
  { grep -v '^owner=' "$S/meta"; printf 'owner=%s\n' "$1"; } >"$S/meta.tmp" && mv -f "$S/meta.tmp" "$S/meta"
}

case $ACTION in
  prepare) prepare "$@" ;;
  setowner) setowner "${1:-}" ;;
  start) mkdir -p "$R"; start_rt ;;
  apply) switch_version "${1:-start}" "${2:-}" ;;
  renew) renew "${1:-}" "${2:-60}" ;;
  unlock) unlock "${1:-}" ;;
  stop) stop_rt ;;
  status) status "${1:-0}" "${2:-0}" ;;
  rollback) rollback ;;
  remove) remove ;;
  *) echo "unknown action $ACTION" >&2; exit 2 ;;
esac
