# tcp-probe.sh: a TCP connect to $1:$2 within 5 s (see provider/underlay/remote.ts). bash's /dev/tcp where bash
# exists, else nc: `nc -z` (OpenBSD and nmap nc), else a plain connect with stdin at EOF (busybox nc has no -z;
# it connects and exits 0 at the end of its stdin, 1 when refused).
if command -v bash >/dev/null 2>&1; then exec timeout 5 bash -c 'exec 3<>"/dev/tcp/$1/$2"' probe "$1" "$2"; fi
if command -v nc >/dev/null 2>&1; then
  exec timeout 5 sh -c 'nc -z -w 5 "$1" "$2" </dev/null >/dev/null 2>&1 || nc -w 5 "$1" "$2" </dev/null >/dev/null 2>&1' probe "$1" "$2"
fi
echo "neither bash nor nc is on the DPU for a tcp probe" >&2
exit 2
