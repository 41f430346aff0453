# remove.sh: removes files (see provider/underlay/scripts.ts).
for f in "$@"; do rm -f -- "$f"; done
