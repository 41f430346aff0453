# status.sh: state of a pending change (see provider/underlay/scripts.ts).
# @include cancel.sh
if [ ! -d "$1" ]; then echo gone
elif [ -e "$1/rolled-back" ] && ! alive "$(cat "$1/timer.pid" 2>/dev/null)"; then echo rolled-back; cat "$1/restore.failed" 2>/dev/null
else echo pending; fi
exit 0
