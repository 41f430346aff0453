import type { DpuPort } from "../contracts";

/** Firmware the VM boots with: SeaBIOS (legacy BIOS) or OVMF (UEFI). */
export type VmFirmware = "bios" | "uefi";

/** OVMF code and variable-store templates shipped by the Debian `ovmf` package. */
export const OVMF_CODE = "/usr/share/OVMF/OVMF_CODE_4M.fd";
export const OVMF_VARS = "/usr/share/OVMF/OVMF_VARS_4M.fd";

/** PCI slots of the NICs; the DPU OS image names them by slot (systemd .link files). */
export const NIC_SLOTS = { oob_net0: 3, p0: 4, p1: 5 } as const;

/** Name of the virtio-serial port the guest's control service listens on. */
export const CONTROL_PORT = "org.pulumi-dpu.ctl";

/** Everything {@link qemuArgs} needs to describe one DPU VM. */
export interface QemuArgsInput {
  readonly name: string;
  readonly accel: "tcg" | "kvm";
  readonly firmware: VmFirmware;
  readonly memoryMb: number;
  readonly cpus: number;
  readonly iso: string;
  readonly stateDisk: string;
  /**
   * fw_cfg `opt/pulumi-dpu/seed`: the installer's image record, plus the image's default identity for a DPU that
   * got no `cidata` medium since its install.
   */
  readonly seedFile: string;
  /** Files of the media the BMC attached besides the boot source (a `cidata` seed among them): one CD each. */
  readonly media?: readonly string[];
  readonly consoleFile: string;
  readonly qmpSocket: string;
  readonly controlSocket: string;
  /** Writable copy of the OVMF variable store (uefi only). */
  readonly ovmfVars?: string;
  /** Tap interface per port (QEMU creates them; they vanish when QEMU exits). */
  readonly taps: Readonly<Record<DpuPort["name"], string>>;
  readonly ports: readonly DpuPort[];
}

/**
 * argv of qemu-system-x86_64 for one DPU: q35, CD-ROM (AHCI) as first boot device, one more CD per attached
 * medium (not bootable, its own AHCI port), state disk (virtio-blk), three virtio NICs on fixed PCI slots backed
 * by taps, the installer's record as fw_cfg `opt/pulumi-dpu/seed`, serial console to a file, QMP and the control
 * channel on UNIX sockets. Starts paused (`-S`): the caller wires the taps, then
 * continues the VM through QMP.
 */
export function qemuArgs(a: QemuArgsInput): string[] {
  // q35's AHCI controller has six ports (ide.0 … ide.5), one drive each; the boot CD takes ide.0.
  const media = a.media ?? [];
  if (media.length > 5)
    throw new Error(`${a.name}: ${media.length} media attached, the VM has 5 free CD ports`);
  const args = [
    "-name",
    `${a.name},process=qemu-${a.name}`,
    "-machine",
    `q35,accel=${a.accel}`,
    "-cpu",
    a.accel === "kvm" ? "host" : "max",
    "-smp",
    String(a.cpus),
    "-m",
    String(a.memoryMb),
    "-nodefaults",
    "-no-user-config",
    "-display",
    "none",
    "-vga",
    "none",
    "-S",
    "-chardev",
    `file,id=ser0,path=${a.consoleFile},append=on`,
    "-serial",
    "chardev:ser0",
    "-qmp",
    `unix:${a.qmpSocket},server=on,wait=off`,
  ];
  if (a.firmware === "uefi") {
    if (!a.ovmfVars) throw new Error("uefi firmware needs a writable OVMF variable store");
    args.push(
      "-drive",
      `if=pflash,format=raw,unit=0,readonly=on,file=${OVMF_CODE}`,
      "-drive",
      `if=pflash,format=raw,unit=1,file=${a.ovmfVars}`,
    );
  }
  args.push(
    "-drive",
    `file=${a.iso},media=cdrom,if=none,id=cd0,readonly=on`,
    "-device",
    "ide-cd,drive=cd0,bootindex=0",
    ...media.flatMap((file, i) => [
      "-drive",
      `file=${file},format=raw,media=cdrom,if=none,id=cd${i + 1},readonly=on`,
      "-device",
      `ide-cd,drive=cd${i + 1},bus=ide.${i + 1}`,
    ]),
    "-drive",
    `file=${a.stateDisk},format=raw,if=none,id=state0,discard=unmap`,
    "-device",
    "virtio-blk-pci,drive=state0,addr=0x6",
    "-fw_cfg",
    `name=opt/pulumi-dpu/seed,file=${a.seedFile}`,
    "-device",
    "virtio-serial-pci,addr=0x7",
    "-chardev",
    `socket,id=ctl0,path=${a.controlSocket},server=on,wait=off`,
    "-device",
    `virtserialport,chardev=ctl0,name=${CONTROL_PORT}`,
    "-device",
    "virtio-rng-pci,addr=0x8",
  );
  for (const p of a.ports) {
    const id = `net_${p.name}`;
    args.push(
      "-netdev",
      `tap,id=${id},ifname=${a.taps[p.name]},script=no,downscript=no`,
      "-device",
      `virtio-net-pci,netdev=${id},mac=${p.mac},addr=0x${NIC_SLOTS[p.name].toString(16)},romfile=`,
    );
  }
  return args;
}
