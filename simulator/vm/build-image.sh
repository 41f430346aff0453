#!/bin/bash
# Builds the DPU OS ISO for the real-VM backend of the pulumi-dpu lab simulator.
#
# Usage: build-image.sh <output-dir> <iso-label>
#
# Output (in <output-dir>): dpu-os.iso (BIOS + UEFI bootable, grub-mkrescue), manifest.txt (package versions,
# sizes), build.log. Everything comes from Debian packages, fetched with the host's own apt configuration
# (no mirror is named here): mmdebstrap builds the root filesystem, the kernel is the Debian linux-image
# package, the initramfs is busybox (Debian busybox-static) plus a handful of kernel modules and the small
# init below, which mounts the squashfs root from the CD under an overlay whose upper layer lives on the
# VM's state disk (/dev/vda, ext4, label DPUSTATE) when present.
#
# Reproducibility: SOURCE_DATE_EPOCH (default: a fixed date) pins every timestamp that mmdebstrap, mksquashfs,
# cpio/gzip and xorriso write, and file lists are sorted.
set -euo pipefail

out=${1:?usage: build-image.sh <output-dir> <iso-label>}
label=${2:?usage: build-image.sh <output-dir> <iso-label>}
[[ $label =~ ^[A-Z0-9_]{1,32}$ ]] || { echo "label must match [A-Z0-9_]{1,32}: $label" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "build-image.sh must run as root (mmdebstrap, chroot)" >&2; exit 2; }
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1735689600}
export LC_ALL=C.UTF-8 TZ=UTC

# Host tools (Debian packages), installed when missing.
need=()
command -v mmdebstrap >/dev/null || need+=(mmdebstrap)
command -v mksquashfs >/dev/null || need+=(squashfs-tools)
command -v xorriso >/dev/null || need+=(xorriso)
command -v grub-mkrescue >/dev/null || need+=(grub-common)
[ -d /usr/lib/grub/i386-pc ] || need+=(grub-pc-bin)
[ -d /usr/lib/grub/x86_64-efi ] || need+=(grub-efi-amd64-bin)
command -v mformat >/dev/null || need+=(mtools)
command -v faketime >/dev/null || need+=(faketime)
command -v cpio >/dev/null || need+=(cpio)
command -v depmod >/dev/null || need+=(kmod)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing host packages: ${need[*]}"
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
fi

# The host's apt sources (never a mirror name of our own).
sources=()
[ -s /etc/apt/sources.list ] && grep -qE '^[[:space:]]*deb ' /etc/apt/sources.list && sources+=(/etc/apt/sources.list)
for f in /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do [ -s "$f" ] && sources+=("$f"); done
[ ${#sources[@]} -gt 0 ] || { echo "no apt sources configured on this host" >&2; exit 2; }
suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")

mkdir -p "$out"
work=$(mktemp -d /var/tmp/pulumi-dpu-vm-build.XXXXXX)
trap 'rm -rf "$work"' EXIT
root=$work/rootfs
iso=$work/iso
initrd=$work/initrd
mkdir -p "$iso/live" "$iso/boot/grub" "$initrd"
t0=$(date +%s)

cat > "$work/hook.sh" <<'EOF'
#!/bin/sh
# mmdebstrap customize hook ($1 = root): package manifest, then the kernel package, downloaded (not installed:
# no initramfs-tools run) with the target's own apt.
set -eu
chroot "$1" dpkg-query -W -f '${Package} ${Version}\n' > "$1/.manifest"
chroot "$1" apt-cache depends linux-image-amd64 | sed -n 's/.*Depends: \(linux-image-[0-9].*\)/\1/p' | head -n1 > "$1/.kernel-package"
mkdir -p "$1/.kernel-deb" && chmod 777 "$1/.kernel-deb"
chroot "$1" sh -c 'cd /.kernel-deb && apt-get download -q "$(cat /.kernel-package)" >/dev/null'
EOF
chmod 755 "$work/hook.sh"

packages=systemd,systemd-sysv,udev,dbus,openssh-server,iproute2,podman,crun,conmon,netavark,aardvark-dns,catatonit,iptables,busybox-static,kmod,procps,iputils-ping
# Stage 1 (the slow, network-bound part) is a tarball: $DPU_ROOTFS_TAR if set (reused when present), else
# <output-dir>/rootfs-stage1.tar, removed after a successful build unless DPU_KEEP_STAGE1 is set.
stage1=${DPU_ROOTFS_TAR:-$out/rootfs-stage1.tar}
if [ ! -s "$stage1" ]; then
  echo "== mmdebstrap $suite ($packages)"
  mmdebstrap --variant=minbase --include="$packages" \
    --aptopt='APT::Install-Recommends "false"' \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    --customize-hook="$work/hook.sh" \
    "$suite" "$work/stage1.tar" "${sources[@]}"
  mv "$work/stage1.tar" "$stage1"
else
  echo "== reusing stage 1 root filesystem $stage1"
fi
mkdir -p "$root"
tar -C "$root" --numeric-owner -xpf "$stage1"

kpkg=$(cat "$root/.kernel-package")
deb=$(ls "$root"/.kernel-deb/linux-image-*.deb)
echo "== kernel $kpkg"
# Extracted aside, then copied: the root is merged-/usr (/lib is a symlink that dpkg-deb -x would replace).
dpkg-deb -x "$deb" "$work/kernel"
cp -a "$work/kernel/lib/modules" "$root/usr/lib/"
mkdir -p "$root/boot" && cp -a "$work/kernel/boot/." "$root/boot/"
echo "$kpkg $(dpkg-deb -f "$deb" Version)" >> "$root/.manifest"
rm -rf "$root/.kernel-deb" "$root/.kernel-package"
kver=$(ls "$root/lib/modules" | head -n1)
mod=$root/lib/modules/$kver/kernel
# Drivers no virtual DPU has: graphics, sound, media, wireless, physical NICs, InfiniBand, staging.
rm -rf "$mod/sound" "$mod/drivers/gpu" "$mod/drivers/media" "$mod/drivers/net/wireless" \
  "$mod/drivers/net/ethernet" "$mod/drivers/infiniband" "$mod/drivers/staging" "$mod/drivers/bluetooth" \
  "$mod/drivers/iio" "$mod/drivers/isdn" "$mod/drivers/hid" "$mod/drivers/input" "$mod/drivers/usb" \
  "$mod/net/wireless" "$mod/net/mac80211" "$mod/net/bluetooth" "$mod/drivers/platform" "$mod/drivers/mtd" \
  "$mod/drivers/thunderbolt" "$mod/drivers/nfc" "$mod/net/nfc" "$mod/drivers/hwmon" "$mod/drivers/leds"
rm -rf "$root/lib/firmware"
depmod -b "$root" "$kver"
mv "$root/boot/vmlinuz-$kver" "$iso/live/vmlinuz"
rm -rf "$root/boot"/*

echo "== configure the DPU OS"
ver=$(echo "$label" | grep -oE '[0-9]+(_[0-9]+)*$' | tr _ . || true); ver=${ver:-0}
cat > "$root/usr/lib/os-release" <<EOF
NAME="DPU OS"
ID=dpuos
ID_LIKE=debian
VERSION_ID="$ver"
VERSION="$ver ($label)"
PRETTY_NAME="DPU OS $ver ($label, Debian $suite, kernel $kver)"
IMAGE_ID="$label"
IMAGE_VERSION="$ver"
DEBIAN_CODENAME=$suite
EOF
ln -sf ../usr/lib/os-release "$root/etc/os-release"
rm -f "$root"/etc/ssh/ssh_host_* "$root/.manifest.tmp"
: > "$root/etc/machine-id"
rm -f "$root/var/lib/dbus/machine-id"
echo dpu > "$root/etc/hostname"
printf '# the DPU OS mounts its root from the CD (see the initramfs)\n' > "$root/etc/fstab"
mkdir -p "$root/usr/lib/pulumi-dpu/mnt/cdrom" "$root/usr/lib/pulumi-dpu/mnt/lower" "$root/usr/lib/pulumi-dpu/mnt/state"
mkdir -p "$root/etc/ssh/sshd_config.d" "$root/etc/systemd/network" "$root/root/.ssh"
chmod 700 "$root/root/.ssh"
cat > "$root/etc/ssh/sshd_config.d/10-pulumi-dpu.conf" <<'EOF'
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UseDNS no
MaxStartups 64:30:128
EOF
# Stable port names by PCI slot (the VM backend places oob_net0, p0, p1 at 00:03.0, 00:04.0, 00:05.0).
i=3
for n in oob_net0 p0 p1; do
  printf '[Match]\nPath=pci-0000:00:0%s.0\n\n[Link]\nName=%s\nMACAddressPolicy=persistent\n' "$i" "$n" > "$root/etc/systemd/network/10-$n.link"
  i=$((i + 1))
done
printf '[Match]\nName=p0 p1\n\n[Network]\nLinkLocalAddressing=no\nIPv6AcceptRA=no\n' > "$root/etc/systemd/network/90-data-ports.network"
mkdir -p "$root/etc/systemd/system/systemd-networkd-wait-online.service.d"
printf '[Service]\nExecStart=\nExecStart=/lib/systemd/systemd-networkd-wait-online --any --timeout=20\n' \
  > "$root/etc/systemd/system/systemd-networkd-wait-online.service.d/any.conf"
mkdir -p "$root/etc/systemd/journald.conf.d"
printf '[Journal]\nStorage=volatile\nRuntimeMaxUse=16M\n' > "$root/etc/systemd/journald.conf.d/10-dpu.conf"

# Day-0 identity, the way a real DPU gets it: a NoCloud volume labelled cidata that the BMC attached through
# its second virtual-media slot (QEMU shows it as a second CD), read by nocloud.sh below and applied once per
# instance-id (kept on the state disk, so it survives later boots without the medium). Only when no seed was
# ever applied does the image fall back to its factory defaults, which the lab hands over as QEMU fw_cfg
# opt/pulumi-dpu/seed (hostname, lab address, lab key, host key: no BMC channel exists for a DPU the lab
# installs without an identity) or kernel parameters dpu.hostname= / dpu.mgmt=. The fw_cfg blob also carries the
# installer's record of the image it installed (sha256, label, URL), written to /etc/os-release at every boot.
cat > "$root/usr/lib/pulumi-dpu/nocloud.sh" <<'NOCLOUD'
#!/bin/sh
# NoCloud reader of the DPU OS (cloud-init's NoCloud datasource, the subset a DPU needs), dash/busybox only.
# Usage: nocloud.sh <seed-dir> <root>. <seed-dir> holds meta-data, user-data (#cloud-config) and network-config
# (version 2), as on a volume labelled cidata. Applied once per instance-id (recorded in
# <root>/var/lib/cloud/data/instance-id, on the state disk): hostname, root's authorized keys (ssh_authorized_keys,
# users[root]), ssh_keys.ed25519_private/_public (ssh_deletekeys), chpasswd.users[root] (type hash), write_files
# (text or b64) and the management interface's addressing (ethernets entry named oob_net0, or matched by
# name or MAC) as a systemd-networkd file. Prints what it did; exit 0 also when the instance was already applied.
set -u
seed=${1:?seed dir}
root=${2:-}
# YAML (block style, as cloud-init documents and YAML emitters write it) flattened to "path<TAB>value" lines:
# mapping keys joined by '.', sequence items by their index; a block scalar (| or >) is one line per text line.
flat() {
  [ -f "$1" ] || return 0
  awk '
  function ind(s) { match(s, /^ */); return RLENGTH }
  function path(   p, i) { p = ""; for (i = 1; i <= n; i++) p = (p == "" ? nm[i] : p "." nm[i]); return p }
  # A scalar: double-quoted (escapes: backslash, quote, t; any other escaped character is kept), single-quoted
  # (a doubled quote is one), or plain; a comment after it goes.
  function unq(v,   o, i, ch) {
    sub(/^[ \t]+/, "", v); sub(/[ \t]+$/, "", v)
    if (v ~ /^"/) {
      o = ""
      for (i = 2; i <= length(v); i++) {
        ch = substr(v, i, 1)
        if (ch == "\"") break
        if (ch == "\\") { i++; ch = substr(v, i, 1); if (ch == "t") ch = "\t" }
        o = o ch
      }
      return o
    }
    if (v ~ /^\047/) {
      o = ""
      for (i = 2; i <= length(v); i++) {
        ch = substr(v, i, 1)
        if (ch == "\047") { if (substr(v, i + 1, 1) != "\047") break; i++ }
        o = o ch
      }
      return o
    }
    sub(/[ \t]+#.*$/, "", v)
    if (v == "~" || v == "null" || v == "[]" || v == "{}") return ""
    return v
  }
  function emit(p, v) { if (v != "") printf "%s\t%s\n", p, v }
  # A "key: value" entry at indent i (the key pushed, then its value emitted or a block scalar opened).
  function entry(i, c,   k, v, pos) {
    if (match(c, /^("[^"]*"|\047[^\047]*\047)[ \t]*:/)) { k = substr(c, 1, RLENGTH - 1); v = substr(c, RLENGTH + 1) }
    else if (c ~ /^[^:]*:$/) { k = substr(c, 1, length(c) - 1); v = "" }
    else { pos = index(c, ": "); k = substr(c, 1, pos - 1); v = substr(c, pos + 2) }
    k = unq(k)
    n++; id[n] = i; nm[n] = k; kind[n] = "key"
    sub(/^[ \t]+/, "", v)
    if (v ~ /^[|>][-+0-9]*[ \t]*(#.*)?$/) { blk = path(); bmin = i; bind = -1; blanks = 0; return }
    emit(path(), unq(v))
  }
  function ismap(c) {
    if (c ~ /^["\047]/) return c ~ /^("[^"]*"|\047[^\047]*\047)[ \t]*:( |$)/
    return c ~ /: / || c ~ /:$/
  }
  {
    sub(/\r$/, "")
    if (blk != "") {
      if ($0 ~ /^[ \t]*$/) { blanks++; next }
      if (bind < 0 && ind($0) > bmin) bind = ind($0)
      if (bind >= 0 && ind($0) >= bind) {
        for (; blanks > 0; blanks--) printf "%s\t\n", blk
        printf "%s\t%s\n", blk, substr($0, bind + 1); next
      }
      blk = ""
    }
    if ($0 ~ /^[ \t]*(#.*)?$/ || $0 ~ /^(---|\.\.\.)/) next
    i = ind($0); c = substr($0, i + 1)
    dash = (c ~ /^-( |$)/)
    while (n > 0 && (id[n] > i || (id[n] == i && !(dash && kind[n] == "key")))) n--
    if (dash) {
      p = path(); idx = cnt[p]++
      n++; id[n] = i; nm[n] = idx; kind[n] = "item"
      c = substr(c, 2); off = ind(c); c = substr(c, off + 1)
      if (c == "") next
      if (ismap(c)) entry(i + 1 + off, c); else emit(path(), unq(c))
      next
    }
    if (ismap(c)) entry(i, c)
  }' "$1"
}
get() { awk -F '\t' -v k="$1" '$1 == k { sub(/^[^\t]*\t/, ""); print }' "$2"; }
keys() { awk -F '\t' -v p="$1" 'index($1, p) == 1 { r = substr($1, length(p) + 1); sub(/\..*/, "", r); if (!s[r]++) print r }' "$2"; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
flat "$seed/meta-data" > "$work/meta"
if head -n1 "$seed/user-data" 2>/dev/null | grep -q '^#cloud-config[[:space:]]*$'; then flat "$seed/user-data" > "$work/user"
else : > "$work/user"; [ -s "$seed/user-data" ] && echo "nocloud: user-data is not #cloud-config, ignored"; fi
flat "$seed/network-config" > "$work/net"
iid=$(get instance-id "$work/meta" | head -n1)
state=$root/var/lib/cloud/data/instance-id
if [ -n "$iid" ] && [ "$(cat "$state" 2>/dev/null)" = "$iid" ]; then
  echo "nocloud: instance $iid already applied"; exit 0
fi
u=$work/user
# hostname: user-data hostname, else fqdn's first label, else meta-data local-hostname (RFC 1123 names only).
h=$(get hostname "$u" | head -n1)
[ -n "$h" ] || h=$(get fqdn "$u" | head -n1 | cut -d. -f1)
[ -n "$h" ] || h=$(get local-hostname "$work/meta" | head -n1)
if [ -n "$h" ]; then
  if echo "$h" | grep -Eq '^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$' && [ ${#h} -le 253 ]; then
    echo "$h" > "$root/etc/hostname"; [ -n "$root" ] || hostname "$h"; echo "nocloud: hostname $h"
  else echo "nocloud: hostname is not a valid host name, ignored"; h=; fi
fi
# root's authorized keys.
for i in $(keys users. "$u"); do
  [ "$(get "users.$i.name" "$u")" = root ] && get_root=$i
done
{ for i in $(keys ssh_authorized_keys. "$u"); do get "ssh_authorized_keys.$i" "$u"; done
  if [ -n "${get_root:-}" ]; then for i in $(keys "users.$get_root.ssh_authorized_keys." "$u"); do get "users.$get_root.ssh_authorized_keys.$i" "$u"; done; fi
} > "$work/keys"
if [ -s "$work/keys" ]; then
  mkdir -p "$root/root/.ssh" && chmod 700 "$root/root/.ssh"
  cp "$work/keys" "$root/root/.ssh/authorized_keys" && chmod 600 "$root/root/.ssh/authorized_keys"
  echo "nocloud: $(wc -l < "$work/keys") authorized key(s) for root"
fi
# SSH host key.
if [ -n "$(get ssh_keys.ed25519_private "$u")" ]; then
  [ "$(get ssh_deletekeys "$u")" = false ] || rm -f "$root"/etc/ssh/ssh_host_*
  (umask 077; get ssh_keys.ed25519_private "$u" > "$root/etc/ssh/ssh_host_ed25519_key")
  pub=$(get ssh_keys.ed25519_public "$u" | head -n1)
  if [ -n "$pub" ]; then echo "$pub" > "$root/etc/ssh/ssh_host_ed25519_key.pub"
  else ssh-keygen -y -f "$root/etc/ssh/ssh_host_ed25519_key" > "$root/etc/ssh/ssh_host_ed25519_key.pub"; fi
  chmod 644 "$root/etc/ssh/ssh_host_ed25519_key.pub"
  echo "nocloud: ed25519 host key"
fi
# root's password hash (users[root].hashed_passwd, chpasswd.users[root] with type hash).
hash=
[ -z "${get_root:-}" ] || hash=$(get "users.$get_root.hashed_passwd" "$u" | head -n1)
for i in $(keys chpasswd.users. "$u"); do
  if [ "$(get "chpasswd.users.$i.name" "$u")" = root ] && [ "$(get "chpasswd.users.$i.type" "$u")" = hash ]; then
    hash=$(get "chpasswd.users.$i.password" "$u" | head -n1)
  fi
done
if [ -n "$hash" ] && [ -z "$root" ]; then usermod -p "$hash" root && echo "nocloud: root password hash"; fi
# write_files.
for i in $(keys write_files. "$u"); do
  p=$(get "write_files.$i.path" "$u" | head -n1)
  case $p in /*) ;; *) echo "nocloud: write_files entry without an absolute path, ignored"; continue ;; esac
  mkdir -p "$root$(dirname "$p")"
  case $(get "write_files.$i.encoding" "$u") in
    b64|base64) get "write_files.$i.content" "$u" | base64 -d > "$root$p" ;;
    ''|text/plain) get "write_files.$i.content" "$u" > "$root$p" ;;
    *) echo "nocloud: write_files $p: encoding not supported, skipped"; continue ;;
  esac
  perm=$(get "write_files.$i.permissions" "$u"); case $perm in 0[0-7][0-7][0-7]|[0-7][0-7][0-7]|0[0-7][0-7][0-7][0-7]) chmod "$perm" "$root$p" ;; esac
  echo "nocloud: wrote $p"
done
# network-config v2: the entry of oob_net0 (by id, match.name or match.macaddress) as a networkd file.
n=$work/net
# oob_net0's MAC by its PCI slot (this runs before udev may have renamed the NIC; see the .link files).
mac=$(cat /sys/bus/pci/devices/0000:00:03.0/virtio*/net/*/address 2>/dev/null | head -n1)
e=
if [ "$(get version "$n")" = 2 ]; then
  for i in $(keys ethernets. "$n"); do
    m=$(get "ethernets.$i.match.macaddress" "$n" | tr A-F a-f)
    if [ "$i" = oob_net0 ] || [ "$(get "ethernets.$i.match.name" "$n")" = oob_net0 ] || { [ -n "$m" ] && [ "$m" = "$mac" ]; }; then e=ethernets.$i; break; fi
  done
elif [ -s "$seed/network-config" ]; then echo "nocloud: network-config is not version 2, ignored"; fi
if [ -n "$e" ]; then
  f=$root/etc/systemd/network/10-oob_net0.network
  mkdir -p "$(dirname "$f")"
  { printf '[Match]\nName=oob_net0\n\n[Network]\nLinkLocalAddressing=no\nIPv6AcceptRA=no\n'
    case $(get "$e.dhcp4" "$n")$(get "$e.dhcp6" "$n") in
      truetrue) echo DHCP=yes ;; true*) echo DHCP=ipv4 ;; *true) echo DHCP=ipv6 ;;
    esac
    for i in $(keys "$e.addresses." "$n"); do echo "Address=$(get "$e.addresses.$i" "$n")"; done
    for g in $(get "$e.gateway4" "$n") $(get "$e.gateway6" "$n"); do echo "Gateway=$g"; done
    for i in $(keys "$e.nameservers.addresses." "$n"); do echo "DNS=$(get "$e.nameservers.addresses.$i" "$n")"; done
    for i in $(keys "$e.routes." "$n"); do
      printf '\n[Route]\n'; to=$(get "$e.routes.$i.to" "$n")
      # netplan's "default" is a route without Destination= for networkd.
      [ "$to" = default ] || echo "Destination=$to"
      echo "Gateway=$(get "$e.routes.$i.via" "$n")"
    done; } > "$f"
  echo "nocloud: oob_net0 $(grep -E '^(Address|DHCP)=' "$f" | tr '\n' ' ')"
fi
if [ -n "$iid" ]; then mkdir -p "$(dirname "$state")" && echo "$iid" > "$state"; fi
echo "nocloud: instance ${iid:-(none)} applied"
NOCLOUD
chmod 755 "$root/usr/lib/pulumi-dpu/nocloud.sh"
cat > "$root/usr/lib/pulumi-dpu/seed.sh" <<'EOF'
#!/bin/sh
# Applies the Day-0 identity (cidata medium, else the image's factory defaults) and the image record.
set -u
seed=/sys/firmware/qemu_fw_cfg/by_name/opt/pulumi-dpu/seed/raw
modprobe qemu_fw_cfg 2>/dev/null || true
tmp=/run/pulumi-dpu
mkdir -p "$tmp"
con() { echo "DPU-BOOT: $*" > /dev/ttyS0 2>/dev/null || true; }
if [ -r "$seed" ]; then cat "$seed" > "$tmp/seed"; else : > "$tmp/seed"; fi
get() { sed -n "s/^$1=//p" "$tmp/seed"; }
# A NoCloud volume (label cidata or CIDATA) on a CD. The boot CD is one; a second drive (the BMC's second slot)
# may still be probing: up to 2 s for it to appear, up to 5 s for every drive's label to read.
cidata=
i=0
while [ "$i" -lt 25 ]; do
  drives=0 labelled=0
  for d in /dev/sr*; do
    [ -b "$d" ] || continue
    drives=$((drives + 1))
    l=$(blkid -p -s LABEL -o value "$d" 2>/dev/null) || continue
    labelled=$((labelled + 1))
    case $l in cidata|CIDATA) cidata=$d; break 2 ;; esac
  done
  if [ "$drives" -ge 2 ] && [ "$labelled" -eq "$drives" ]; then break; fi
  if [ "$drives" -lt 2 ] && [ "$i" -ge 10 ]; then break; fi
  i=$((i + 1)); sleep 0.2
done
applied=/var/lib/cloud/data/instance-id
if [ -n "$cidata" ]; then
  mkdir -p "$tmp/cidata"
  if mount -t iso9660 -o ro "$cidata" "$tmp/cidata"; then
    # Work files under /run: /tmp is still being set up (tmpfiles, tmp.mount) while this unit runs.
    TMPDIR=$tmp /usr/lib/pulumi-dpu/nocloud.sh "$tmp/cidata" 2>&1 | while read -r l; do con "$l"; done
    umount "$tmp/cidata"
  else con "nocloud: cannot mount $cidata"; fi
  con "seed from cidata medium $cidata ($(cat /etc/hostname))"
elif [ -s "$applied" ]; then
  con "seed: instance $(cat "$applied") applied earlier, no medium now"
else
  for w in $(cat /proc/cmdline); do
    case $w in
      dpu.hostname=*) echo "hostname=${w#dpu.hostname=}" >> "$tmp/seed" ;;
      dpu.mgmt=*) echo "mgmt_address=${w#dpu.mgmt=}" >> "$tmp/seed" ;;
    esac
  done
  h=$(get hostname | tail -n1)
  if [ -n "$h" ]; then echo "$h" > /etc/hostname; hostname "$h"; fi
  mkdir -p /run/systemd/network
  addrs=$(get mgmt_address)
  if [ -n "$addrs" ]; then
    { printf '[Match]\nName=oob_net0\n\n[Network]\nLinkLocalAddressing=no\nIPv6AcceptRA=no\n'
      for a in $addrs; do echo "Address=$a"; done
      for d in $(get nameserver); do echo "DNS=$d"; done; } > /run/systemd/network/10-oob_net0.network
  fi
  keys=$(get authorized_key)
  if [ -n "$keys" ]; then
    mkdir -p /root/.ssh && chmod 700 /root/.ssh
    get authorized_key > /root/.ssh/authorized_keys && chmod 600 /root/.ssh/authorized_keys
  fi
  hk=$(get host_key_ed25519_b64)
  if [ -n "$hk" ]; then
    umask 077
    echo "$hk" | base64 -d > /etc/ssh/ssh_host_ed25519_key
    get host_key_ed25519_pub > /etc/ssh/ssh_host_ed25519_key.pub
    chmod 644 /etc/ssh/ssh_host_ed25519_key.pub
    umask 022
  fi
  con "seed: image defaults ($h)"
fi
ls /etc/ssh/ssh_host_*_key >/dev/null 2>&1 || ssh-keygen -A
if [ -n "$(get image_sha256)" ]; then
  rm -f /etc/os-release
  { cat /usr/lib/os-release
    echo "DPU_IMAGE_SHA256=$(get image_sha256 | tail -n1)"
    echo "DPU_IMAGE_KIND=$(get image_kind | tail -n1)"
    echo "DPU_IMAGE_LABEL=\"$(get image_label | tail -n1)\""
    echo "DPU_IMAGE_URL=\"$(get image_url | tail -n1)\""; } > /etc/os-release.new
  mv /etc/os-release.new /etc/os-release
fi
rm -f "$tmp/seed"
# The host's public keys, as cloud-init prints them to the console (what a BMC's serial console shows).
for k in /etc/ssh/ssh_host_*_key.pub; do [ -f "$k" ] && con "host-key $(cut -d' ' -f1,2 "$k")"; done
# The management addresses this boot configures, for whoever watches the serial console (the lab's readiness).
for f in /etc/systemd/network/10-oob_net0.network /run/systemd/network/10-oob_net0.network; do
  [ -f "$f" ] || continue
  for a in $(sed -n 's/^Address=//p' "$f"); do con "mgmt-address $a"; done
  break
done
con "seed applied ($(cat /etc/hostname))"
EOF
chmod 755 "$root/usr/lib/pulumi-dpu/seed.sh"
cat > "$root/etc/systemd/system/pulumi-dpu-seed.service" <<'EOF'
[Unit]
Description=Apply the DPU seed (identity, management address, authorized keys)
DefaultDependencies=no
After=systemd-remount-fs.service
Before=sysinit.target systemd-networkd.service ssh.service network-pre.target systemd-hostnamed.service
Wants=network-pre.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/lib/pulumi-dpu/seed.sh

[Install]
WantedBy=sysinit.target
EOF
cat > "$root/etc/systemd/system/pulumi-dpu-ready.service" <<'EOF'
[Unit]
Description=Mark the DPU OS as running on the serial console
After=ssh.service systemd-networkd.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/sh -c 'echo "DPU-BOOT: os-running" > /dev/ttyS0'

[Install]
WantedBy=multi-user.target
EOF
cat > "$root/usr/lib/pulumi-dpu/control.sh" <<'EOF'
#!/bin/sh
# Lab control channel (virtio-serial port org.pulumi-dpu.ctl): the simulator's fault injection for sshd.
port=/dev/virtio-ports/org.pulumi-dpu.ctl
[ -e "$port" ] || exit 0
exec 3<>"$port"
while read -r cmd <&3; do
  case $cmd in
    ssh-down) systemctl stop ssh.socket ssh.service ;;
    ssh-up) systemctl start ssh.service ;;
    ssh-drop)
      l=$(cat /run/sshd.pid 2>/dev/null)
      for p in $(pgrep -x sshd); do [ "$p" = "$l" ] || kill -KILL "$p"; done ;;
    *) echo "unknown $cmd" >&3; continue ;;
  esac
  echo "done $cmd" >&3
done
EOF
chmod 755 "$root/usr/lib/pulumi-dpu/control.sh"
cat > "$root/etc/systemd/system/pulumi-dpu-control.service" <<'EOF'
[Unit]
Description=DPU lab control channel (virtio-serial)
After=ssh.service

[Service]
ExecStart=/usr/lib/pulumi-dpu/control.sh
Restart=always
RestartSec=1

[Install]
WantedBy=multi-user.target
EOF
chroot "$root" systemctl enable systemd-networkd.service pulumi-dpu-seed.service pulumi-dpu-ready.service ssh.service pulumi-dpu-control.service 2>&1 | grep -v -E "^(Created symlink|Synchronizing|Executing)" || true
chroot "$root" systemctl mask apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service \
  fstrim.timer getty@tty1.service podman-auto-update.timer podman-auto-update.service podman-restart.service \
  dpkg-db-backup.timer man-db.timer systemd-pstore.service >/dev/null
chroot "$root" systemctl set-default multi-user.target >/dev/null 2>&1
mv "$root/.manifest" "$work/manifest.packages"
rm -rf "$root/var/cache/apt/"*.bin "$root/var/lib/apt/lists/"* "$root/tmp/"* "$root/var/log/"*.log "$root/var/cache/ldconfig/aux-cache"

echo "== initramfs"
kmods="ahci sr_mod isofs squashfs loop overlay virtio_pci virtio_blk ext4"
mkdir -p "$initrd/bin" "$initrd/dev" "$initrd/proc" "$initrd/sys" "$initrd/cdrom" "$initrd/lower" "$initrd/state" "$initrd/newroot" "$initrd/mods"
cp "$root/bin/busybox" "$initrd/bin/busybox"
loadlist=$work/load-order
: > "$loadlist"
for m in $kmods; do
  modprobe -d "$root" -S "$kver" --show-depends "$m" | awk '$1 == "insmod" { print $2 }' >> "$loadlist"
done
n=0
: > "$initrd/mods/order"
awk '!seen[$0]++' "$loadlist" | while read -r ko; do
  n=$((n + 1))
  base=$(printf '%02d-%s' "$n" "$(basename "$ko")")
  cp "$root/${ko#"$root"}" "$initrd/mods/$base" 2>/dev/null || cp "$ko" "$initrd/mods/$base"
  echo "$base" >> "$initrd/mods/order"
done
cat > "$initrd/init" <<'EOF'
#!/bin/busybox sh
# DPU OS initramfs: squashfs root from the CD, overlay upper layer on the state disk (or RAM).
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo "DPU-BOOT: initramfs" > /dev/console
for m in $(cat /mods/order); do insmod "/mods/$m" 2>/dev/null; done
fail() { echo "DPU-BOOT: failed: $*" > /dev/console; sleep 5; echo b > /proc/sysrq-trigger; }
i=0
while :; do
  for d in /dev/sr0 /dev/sr1; do
    if [ -b "$d" ] && mount -t iso9660 -o ro "$d" /cdrom 2>/dev/null; then
      [ -f /cdrom/live/root.squashfs ] && break 2
      umount /cdrom
    fi
  done
  i=$((i + 1)); [ $i -gt 200 ] && fail "no DPU OS CD found"
  sleep 0.1
done
mount -t squashfs -o ro,loop /cdrom/live/root.squashfs /lower || fail "cannot mount the root squashfs"
state=ram
for j in 1 2 3 4 5 6 7 8 9 10; do [ -b /dev/vda ] && break; sleep 0.1; done
if [ -b /dev/vda ] && mount -t ext4 -o noatime /dev/vda /state 2>/dev/null; then state=disk; else mount -t tmpfs -o size=512m tmpfs /state; fi
mkdir -p /state/root/upper /state/root/work /state/containers
mount -t overlay overlay -o lowerdir=/lower,upperdir=/state/root/upper,workdir=/state/root/work /newroot || fail "overlay"
mkdir -p /newroot/var/lib/containers
mount --bind /state/containers /newroot/var/lib/containers
for m in cdrom lower state; do mount --move /$m /newroot/usr/lib/pulumi-dpu/mnt/$m; done
echo "DPU-BOOT: root mounted (state on $state)" > /dev/console
umount /proc /sys
mount --move /dev /newroot/dev
exec switch_root /newroot /sbin/init
EOF
chmod 755 "$initrd/init"
find "$initrd" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
(cd "$initrd" && find . | LC_ALL=C sort | cpio -o -H newc --reproducible --quiet | gzip -9n) > "$iso/live/initrd.img"

echo "== squashfs"
mksquashfs "$root" "$iso/live/root.squashfs" -comp zstd -Xcompression-level 9 -noappend -quiet -no-progress -processors 2 \
  -wildcards -e 'proc/*' 'sys/*' 'dev/*' 'run/*' 'tmp/*' >/dev/null

echo "== iso"
cat > "$iso/boot/grub/grub.cfg" <<EOF
set timeout=0
set default=0
serial --unit=0 --speed=115200
terminal_input serial console
terminal_output serial console
echo "DPU-BOOT: loader"
menuentry "DPU OS $ver ($label)" {
  linux /live/vmlinuz console=ttyS0,115200 quiet loglevel=3 panic=10 fsck.mode=skip systemd.show_status=false
  initrd /live/initrd.img
}
EOF
find "$iso" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
# Two things in grub-mkrescue ignore SOURCE_DATE_EPOCH: it names the ISO by the current time (the volume
# dates and the UUID its embedded config searches for, which xorriso's GPT disk GUID follows), and mformat
# draws a random FAT serial for the EFI image. So it runs with the clock frozen at SOURCE_DATE_EPOCH
# (faketime -f) and an mformat shim that pins the serial: the same package versions give the same ISO.
shim="$work/shim"
mkdir -p "$shim"
printf '#!/bin/sh\nexec %s -N %08x "$@"\n' "$(command -v mformat)" "$((SOURCE_DATE_EPOCH & 0xffffffff))" >"$shim/mformat"
chmod 0755 "$shim/mformat"
PATH="$shim:$PATH" TZ=UTC faketime -f "$(date -u -d "@$SOURCE_DATE_EPOCH" '+%Y-%m-%d %H:%M:%S')" \
  grub-mkrescue -o "$work/dpu-os.iso" "$iso" -- -volid "$label" >"$work/grub-mkrescue.log" 2>&1 \
  || { cat "$work/grub-mkrescue.log" >&2; exit 1; }

{
  echo "label $label"
  echo "suite $suite"
  echo "kernel $kver"
  echo "built_seconds $(($(date +%s) - t0))"
  echo "iso_bytes $(stat -c %s "$work/dpu-os.iso")"
  echo "squashfs_bytes $(stat -c %s "$iso/live/root.squashfs")"
  echo "kernel_bytes $(stat -c %s "$iso/live/vmlinuz")"
  echo "initrd_bytes $(stat -c %s "$iso/live/initrd.img")"
  echo "rootfs_bytes $(du -sb "$root" | cut -f1)"
  echo "iso_sha256 $(sha256sum "$work/dpu-os.iso" | cut -d' ' -f1)"
  echo "packages:"
  sort "$work/manifest.packages"
} > "$work/manifest.txt"
mv "$work/manifest.txt" "$out/manifest.txt"
mv "$work/dpu-os.iso" "$out/dpu-os.iso"
[ -n "${DPU_KEEP_STAGE1:-}" ] || [ -n "${DPU_ROOTFS_TAR:-}" ] || rm -f "$stage1"
echo "== done: $out/dpu-os.iso ($(stat -c %s "$out/dpu-os.iso") bytes, $(($(date +%s) - t0)) s)"
