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

# The installer step: identity, management address, authorized keys and host key from the seed the BMC
# hands over (QEMU fw_cfg opt/pulumi-dpu/seed), or from kernel parameters dpu.hostname= / dpu.mgmt=.
cat > "$root/usr/lib/pulumi-dpu/seed.sh" <<'EOF'
#!/bin/sh
# Applies the DPU seed: hostname, management address, root's authorized keys, SSH host key, image identity.
set -u
seed=/sys/firmware/qemu_fw_cfg/by_name/opt/pulumi-dpu/seed/raw
modprobe qemu_fw_cfg 2>/dev/null || true
tmp=/run/pulumi-dpu
mkdir -p "$tmp"
if [ -r "$seed" ]; then cat "$seed" > "$tmp/seed"; else : > "$tmp/seed"; fi
for w in $(cat /proc/cmdline); do
  case $w in
    dpu.hostname=*) echo "hostname=${w#dpu.hostname=}" >> "$tmp/seed" ;;
    dpu.mgmt=*) echo "mgmt_address=${w#dpu.mgmt=}" >> "$tmp/seed" ;;
  esac
done
get() { sed -n "s/^$1=//p" "$tmp/seed"; }
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
echo "DPU-BOOT: seed applied ($h)" > /dev/ttyS0 2>/dev/null || true
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
