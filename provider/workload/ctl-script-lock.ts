/**
 * Shell functions of the control script (see `ctl-script.ts`) that serialize writers and record who owns which
 * artifact path. Static POSIX sh text (dash, busybox ash, bash); data arrives as arguments only.
 *
 * - The lock of a workload is the directory `$ROOT/.locks/<name>.lock` (mkdir is atomic), holding `holder`:
 *   `token=`, `expires=` (DPU clock, renewed by the holder), `since=` and `who=` (host, pid, stack, action). A
 *   lock whose lease expired, or that the provider proves stale (its process is gone), is taken over, one taker
 *   at a time (`<name>.lock.steal`).
 * - The owner of an artifact path is the file `$ROOT/.owners/<sha256 of the path>` (`name=`, `backup=`,
 *   `path=`), created with `ln` (atomic, fails when it exists). `<key>.backup` keeps a file the workload was
 *   allowed to overwrite; releasing the path puts it back.
 */
export const CTL_LOCK_SH = `
LOCKS=$ROOT/.locks
L=$LOCKS/$NAME.lock
OWN=$ROOT/.owners

field() {
  fv=
  [ -f "$1" ] || return 0
  while IFS= read -r fl || [ -n "$fl" ]; do
    case $fl in "$2="*) fv=\${fl#*=} ;; esac
  done <"$1"
  printf '%s' "$fv"
}

now() { date +%s; }

age() {
  am=$(stat -c %Y "$1" 2>/dev/null) || am=$(now)
  echo $(($(now) - am))
}

put_holder() {
  ht_now=$(now)
  printf 'token=%s\\nexpires=%s\\nsince=%s\\nwho=%s\\n' "$1" "$((ht_now + $2))" "\${4:-$ht_now}" "$3" >"$L/holder.tmp" &&
    mv -f "$L/holder.tmp" "$L/holder"
}

lock() {
  mkdir -p "$LOCKS" || exit 1
  if mkdir "$L" 2>/dev/null; then
    put_holder "$1" "$2" "$3"
    return 0
  fi
  ht=$(field "$L/holder" token)
  if [ -n "$ht" ] && [ "$ht" = "$1" ]; then
    put_holder "$1" "$2" "$3"
    return 0
  fi
  hx=$(field "$L/holder" expires)
  stale=
  case $hx in
    "" | *[!0-9]*) [ "$(age "$L")" -gt 30 ] && stale=1 ;;
    *) [ "$(now)" -gt "$hx" ] && stale=1 ;;
  esac
  if [ -n "$4" ] && [ "$4" = "$ht" ]; then stale=1; fi
  if [ -d "$L.steal" ] && [ "$(age "$L.steal")" -gt 30 ]; then rmdir "$L.steal" 2>/dev/null; fi
  if [ -n "$stale" ] && mkdir "$L.steal" 2>/dev/null; then
    if [ "$(field "$L/holder" token)" = "$ht" ]; then
      hw=$(field "$L/holder" who)
      rm -rf "$L"
      if mkdir "$L" 2>/dev/null; then
        put_holder "$1" "$2" "$3"
        rmdir "$L.steal"
        echo "note took over a stale lock held by $hw"
        return 0
      fi
    fi
    rmdir "$L.steal"
  fi
  echo busy
  cat "$L/holder" 2>/dev/null
  exit 75
}

renew() {
  [ "$(field "$L/holder" token)" = "$1" ] || { echo lost; exit 76; }
  put_holder "$1" "$2" "$(field "$L/holder" who)" "$(field "$L/holder" since)"
}

unlock() {
  [ "$(field "$L/holder" token)" = "$1" ] || return 0
  cleanup_staged
  # A workload refused before its first version leaves no empty directory behind.
  rmdir "$W" 2>/dev/null
  rm -rf "$L"
}

pathkey() {
  pk=$(printf '%s' "$1" | sha256sum)
  printf '%s' "\${pk%% *}"
}

listed() {
  [ -f "$2" ] || return 1
  while IFS= read -r ll || [ -n "$ll" ]; do
    [ "\${ll#* }" = "$1" ] && return 0
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
    case $cp_ in */*) cp_=\${cp_%/*} ;; *) break ;; esac
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
  printf 'name=%s\\nbackup=%s\\npath=%s\\n' "$NAME" "$cb" "$cd_" >"$ck.$$"
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
  printf '%s/.%s.pulumi-dpu-stage-%s' "\${1%/*}" "\${1##*/}" "$2"
}

cleanup_dest() {
  cdir=\${1%/*}
  cbase=\${1##*/}
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
`;
