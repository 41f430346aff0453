# unlock.sh: removes the lock directory $1 if $2 still holds it (see provider/underlay/scripts.ts).
# shellcheck disable=SC2034 # RL is read by remote-lock.sh, included below
RL=$1
# @include remote-lock.sh
rl_release "$2"
