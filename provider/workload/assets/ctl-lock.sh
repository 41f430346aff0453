# ctl-lock.sh: the workload's lock (provider/ssh/assets/remote-lock.sh on $ROOT/.locks/<name>.lock) and the
# record of which workload owns which artifact path; included in ctl.sh (see provider/workload/ctl-script-lock.ts).

L=$ROOT/.locks/$NAME.lock
# shellcheck disable=SC2034 # RL is read by remote-lock.sh, included below
RL=$L
OWN=$ROOT/.owners

# @include remote-lock.sh
field() { rl_field "$@"; }

lock() {
  rl_take "$1" "$2" "$3" "$4"
  case $? in
    0)
      if [ -n "$RL_TOOK" ]; then echo "note took over a stale lock held by $RL_TOOK"; fi
      return 0
      ;;
    1)
      echo busy
      cat "$L/holder" 2>/dev/null
      exit 75
      ;;
  esac
  exit 1
}

renew() {
  rl_renew "$1" "$2" || { echo lost; exit 76; }
}

unlock() {
  rl_holds "$1" || return 0
  cleanup_staged
  # A workload refused before its first version leaves no empty directory behind.
  rmdir "$W" 2>/dev/null
  rl_release "$1"
}

pathkey() {
  pk=$(printf '%s' "$1" | sha256sum)
  printf '%s' "${pk%% *}"
}

listed() {
  [ -f "$2" ] || return 1
  while IFS= read -r ll || [ -n "$ll" ]; do
    [ "${ll#* }" = "$1" ] && return 0
  done <"$2"
  return 1
}

ours_before() {
  listed "$1" "$S/artifacts" || listed "$1" "$W/previous/spec/artifacts"
}

check_claim() {
  cd_=$2
  case $cd_ in "$ROOT" | "$ROOT"/*) echo "refused $1 reserved $ROOT"; return 1 ;; esac
  if [ -d "$cd_" ]; then echo "refused $1 directory"; return 1; fi
  cp_=$cd_
  while :; do
    case $cp_ in */*) cp_=${cp_%/*} ;; *) break ;; esac
    [ -n "$cp_" ] || break
    if [ -e "$cp_" ] && [ ! -d "$cp_" ]; then echo "refused $1 parent $cp_"; return 1; fi
  done
  ck=$OWN/$(pathkey "$cd_")
  if [ -f "$ck" ]; then
    cown=$(field "$ck" name)
    [ "$cown" = "$NAME" ] && return 0
    echo "refused $1 owner $cown"
    return 1
  fi
  if [ -e "$cd_" ] || [ -L "$cd_" ]; then
    ours_before "$cd_" && return 0
    [ "$3" = 1 ] && return 0
    echo "refused $1 exists"
    return 1
  fi
  return 0
}

claim() {
  cd_=$2
  mkdir -p "$OWN" || return 1
  ck=$OWN/$(pathkey "$cd_")
  [ -f "$ck" ] && [ "$(field "$ck" name)" = "$NAME" ] && return 0
  cb=0
  if { [ -e "$cd_" ] || [ -L "$cd_" ]; } && ! ours_before "$cd_"; then
    cp -pP "$cd_" "$ck.backup.$$" || { echo "refused $1 backup"; return 1; }
    cb=1
  fi
  printf 'name=%s\nbackup=%s\npath=%s\n' "$NAME" "$cb" "$cd_" >"$ck.$$"
  if ln "$ck.$$" "$ck" 2>/dev/null; then
    rm -f "$ck.$$"
    if [ "$cb" = 1 ]; then mv -f "$ck.backup.$$" "$ck.backup"; fi
    return 0
  fi
  rm -f "$ck.$$" "$ck.backup.$$"
  cown=$(field "$ck" name)
  [ "$cown" = "$NAME" ] && return 0
  echo "refused $1 owner $cown"
  return 1
}

release() {
  rk=$OWN/$(pathkey "$1")
  if [ -f "$rk" ]; then
    [ "$(field "$rk" name)" = "$NAME" ] || return 0
    if [ -e "$rk.backup" ] || [ -L "$rk.backup" ]; then mv -f "$rk.backup" "$1"; else rm -f "$1"; fi
    rm -f "$rk"
  else
    rm -f "$1"
  fi
}

release_all() {
  [ -d "$OWN" ] || return 0
  for rf in "$OWN"/*; do
    case $rf in *.backup | *.backup.* | *.[0-9]*) continue ;; esac
    [ -f "$rf" ] || continue
    [ "$(field "$rf" name)" = "$NAME" ] || continue
    release "$(field "$rf" path)"
  done
}

staged_path() {
  printf '%s/.%s.pulumi-dpu-stage-%s' "${1%/*}" "${1##*/}" "$2"
}

cleanup_dest() {
  cdir=${1%/*}
  cbase=${1##*/}
  rm -f -- "$cdir/.$cbase".tmp-* "$cdir/.$cbase".pulumi-dpu-stage-* "$cdir/..$cbase".pulumi-dpu-stage-*
}

cleanup_staged() {
  if [ -f "$W/pending" ]; then
    while IFS= read -r pd || [ -n "$pd" ]; do cleanup_dest "$pd"; done <"$W/pending"
    rm -f "$W/pending"
  fi
  for sd in "$W"/stage-*; do [ -d "$sd" ] && rm -rf "$sd"; done
  return 0
}
