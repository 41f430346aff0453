# remote-lock.sh: one writer at a time per lock directory $RL on the DPU (see provider/ssh/remote-lock.ts).
# mkdir is atomic. $RL/holder holds token=, expires= (DPU clock), since= and who= lines, replaced atomically. A
# lock whose lease expired, that has no valid lease and is older than 30 s, or whose token the caller proved
# stale, is taken over, one taker at a time ($RL.steal).
rl_field() {
  fv=
  [ -f "$1" ] || return 0
  while IFS= read -r fl || [ -n "$fl" ]; do
    case $fl in "$2="*) fv=${fl#*=} ;; esac
  done <"$1"
  printf '%s' "$fv"
}

rl_now() { date +%s; }

rl_age() {
  am=$(stat -c %Y "$1" 2>/dev/null) || am=$(rl_now)
  echo $(($(rl_now) - am))
}

# rl_wait_holder: waits up to about 1 s while $RL exists without a holder file.
rl_wait_holder() {
  wi=0
  while [ -d "$RL" ] && [ ! -f "$RL/holder" ] && [ "$wi" -lt 10 ]; do
    # Fractional sleep where the sleep supports it; otherwise whole seconds, still about 1 s in all.
    sleep 0.1 2>/dev/null || { sleep 1; wi=$((wi + 4)); }
    wi=$((wi + 1))
  done
}

# rl_put TOKEN LEASE WHO [SINCE]
rl_put() {
  ht_now=$(rl_now)
  printf 'token=%s\nexpires=%s\nsince=%s\nwho=%s\n' "$1" "$((ht_now + $2))" "${4:-$ht_now}" "$3" >"$RL/holder.tmp" &&
    mv -f "$RL/holder.tmp" "$RL/holder"
}

# rl_take TOKEN LEASE WHO STALE_TOKEN: 0 when TOKEN holds the lock now (RL_TOOK: who held the stale lock it took
# over, or empty), 1 when another holder has it, 2 when the lock cannot be created.
rl_take() {
  RL_TOOK=
  mkdir -p "${RL%/*}" || return 2
  if mkdir "$RL" 2>/dev/null; then
    rl_put "$1" "$2" "$3"
    return 0
  fi
  # The holder writes its lease right after its mkdir: give it that moment, so a busy answer names the holder
  # (and a lock released meanwhile is taken) instead of reporting "an unknown holder".
  rl_wait_holder
  if mkdir "$RL" 2>/dev/null; then
    rl_put "$1" "$2" "$3"
    return 0
  fi
  ht=$(rl_field "$RL/holder" token)
  if [ -n "$ht" ] && [ "$ht" = "$1" ]; then
    rl_put "$1" "$2" "$3"
    return 0
  fi
  hx=$(rl_field "$RL/holder" expires)
  stale=
  case $hx in
    "" | *[!0-9]*) [ "$(rl_age "$RL")" -gt 30 ] && stale=1 ;;
    *) [ "$(rl_now)" -gt "$hx" ] && stale=1 ;;
  esac
  if [ -n "$4" ] && [ "$4" = "$ht" ]; then stale=1; fi
  if [ -d "$RL.steal" ] && [ "$(rl_age "$RL.steal")" -gt 30 ]; then rmdir "$RL.steal" 2>/dev/null; fi
  if [ -n "$stale" ] && mkdir "$RL.steal" 2>/dev/null; then
    if [ "$(rl_field "$RL/holder" token)" = "$ht" ]; then
      hw=$(rl_field "$RL/holder" who)
      rm -rf "$RL"
      if mkdir "$RL" 2>/dev/null; then
        rl_put "$1" "$2" "$3"
        rmdir "$RL.steal"
        # shellcheck disable=SC2034 # RL_TOOK is read by the script that includes this library
        RL_TOOK=${hw:-an unknown holder}
        return 0
      fi
    fi
    rmdir "$RL.steal"
  fi
  return 1
}

# rl_holds TOKEN: TOKEN holds the lock.
rl_holds() { [ -n "$1" ] && [ "$(rl_field "$RL/holder" token)" = "$1" ]; }

# rl_renew TOKEN LEASE: extends the lease of the holder TOKEN (1 when it no longer holds the lock).
rl_renew() {
  rl_holds "$1" || return 1
  rl_put "$1" "$2" "$(rl_field "$RL/holder" who)" "$(rl_field "$RL/holder" since)"
}

# rl_release TOKEN: removes the lock if TOKEN holds it.
rl_release() {
  if rl_holds "$1"; then rm -rf "$RL"; fi
  return 0
}
