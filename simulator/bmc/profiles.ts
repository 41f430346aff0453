import type { BMC_PROFILES, BmcProfileName } from "../contracts";

/** Where a profile exposes its one CD virtual-media slot, and how InsertMedia behaves. */
export interface VirtualMediaDef {
  /** The slot hangs under the system (`ComputerSystem.VirtualMedia`) or the manager. */
  readonly under: "system" | "manager";
  readonly id: string;
  /** Intel IPU: `TransferMethod` must be `Upload`; the BMC downloads the image in a task (202). */
  readonly uploadOnly: boolean;
  /** Slot accepts PATCH of `Image`/`Inserted`/`WriteProtected` (the DMTF fallback to actions). */
  readonly patchable: boolean;
  /**
   * A second slot next to the CD (same parent, same insert/eject and PATCH rules, streamed): where a
   * config drive (a NoCloud `cidata` volume) goes while the CD holds the OS installer.
   */
  readonly second?: SecondSlotDef;
}

/** A profile's second virtual-media slot. */
export interface SecondSlotDef {
  readonly id: string;
  readonly name: string;
  /** Redfish `MediaTypes` of the slot. */
  readonly mediaTypes: readonly string[];
}

/** Everything that differs between the BMCs the simulator impersonates. Data first, few hooks. */
export interface ProfileDef {
  readonly name: BmcProfileName;
  /** One line: what the profile reproduces (the README's vendor compatibility table shows it). */
  readonly note: string;
  readonly vendor: string;
  readonly product: string;
  readonly systemId: string;
  readonly managerId: string;
  readonly chassisId: string;
  readonly manufacturer: string;
  readonly model: string;
  readonly managerFirmware: string;
  readonly virtualMedia?: VirtualMediaDef;
  readonly bootTargets: readonly string[];
  readonly bootModes: readonly string[];
  /** Boot changes go to `Systems/{id}/Settings` and apply at the next reset (OpenBMC/BlueField). */
  readonly settingsObject: boolean;
  /** BootProgress uses `LastState: OEM` with BlueField `OemLastState` values. */
  readonly oemBootProgress: boolean;
  readonly resetTypes: readonly string[];
  /** Reset parameters are described by an ActionInfo resource, not inline AllowableValues. */
  readonly resetActionInfo: boolean;
  /** ResetType values of `Manager.Reset`. */
  readonly managerResetTypes: readonly string[];
  /** `Manager.Reset` restarts the DPU (Intel IPU: the IMC resets the IPU) rather than only the BMC. */
  readonly managerResetRestartsDpu: boolean;
  /** SimpleUpdate of the OS installs at once and resets the DPU (BlueField); otherwise staged until reset. */
  readonly updateInstallsNow: boolean;
  /** Id of the firmware inventory item that is the DPU operating system. */
  readonly osInventoryId: string;
  /** Status of successful action responses: 204 (most) or 200 with a Success message (bmcweb). */
  readonly actionStatus: 200 | 204;
}

/** DMTF ResetType values (every one the schema defines). */
export const DMTF_RESETS = [
  "On",
  "ForceOff",
  "GracefulShutdown",
  "GracefulRestart",
  "ForceRestart",
  "Nmi",
  "ForceOn",
  "PushPowerButton",
  "PowerCycle",
] as const;

/** The four hand-written profiles (capture-backed ones are built from their captures, see `capture/`). */
export const PROFILES: Readonly<Record<(typeof BMC_PROFILES)[number], ProfileDef>> = {
  generic: {
    name: "generic",
    note: "DMTF mockup-like DPU BMC: virtual media under the manager (InsertMedia or PATCH), BootProgress, UEFI HTTP boot, SimpleUpdate over HTTP/HTTPS",
    vendor: "Contoso",
    product: "Contoso DPU BMC",
    systemId: "1",
    managerId: "BMC",
    chassisId: "DPU",
    manufacturer: "Contoso",
    model: "SmartNIC 9900",
    managerFirmware: "1.4.0",
    // A CD and a removable-media slot, as the DMTF mockups serve them (public-rackmount1: CD1, CD2 and Floppy1
    // with MediaTypes Floppy/USBStick; public-smartnic and public-tower: CD1 and Floppy1).
    virtualMedia: {
      under: "manager",
      id: "CD1",
      uploadOnly: false,
      patchable: true,
      second: { id: "USB1", name: "Virtual Removable Media", mediaTypes: ["USBStick"] },
    },
    bootTargets: ["None", "Pxe", "Cd", "Usb", "Hdd", "BiosSetup", "UefiShell", "UefiHttp"],
    bootModes: ["UEFI", "Legacy"],
    settingsObject: false,
    oemBootProgress: false,
    resetTypes: DMTF_RESETS,
    resetActionInfo: false,
    managerResetTypes: ["GracefulRestart", "ForceRestart"],
    managerResetRestartsDpu: false,
    updateInstallsNow: false,
    osInventoryId: "DPU_OS",
    actionStatus: 204,
  },
  dell: {
    name: "dell",
    note: "Dell-like: virtual media under the system (InsertMedia only), System.Embedded.1 and iDRAC.Embedded.1, BootProgress",
    vendor: "Dell",
    product: "Integrated Dell Remote Access Controller",
    systemId: "System.Embedded.1",
    managerId: "iDRAC.Embedded.1",
    chassisId: "System.Embedded.1",
    manufacturer: "Dell Inc.",
    model: "DPU Sled",
    managerFirmware: "7.10.30.00",
    // iDRAC: VirtualMedia/1 is the virtual CD, VirtualMedia/2 the virtual removable disk (Dell's
    // Invoke-InsertEjectVirtualMediaREDFISH: virtual_media_device "1" for CD or "2" for removable disk).
    virtualMedia: {
      under: "system",
      id: "1",
      uploadOnly: false,
      patchable: false,
      second: { id: "2", name: "Virtual Removable Disk", mediaTypes: ["USBStick"] },
    },
    bootTargets: [
      "None",
      "Pxe",
      "Floppy",
      "Cd",
      "Hdd",
      "BiosSetup",
      "Utilities",
      "UefiTarget",
      "SDCard",
      "UefiHttp",
    ],
    bootModes: ["UEFI", "Legacy"],
    settingsObject: false,
    oemBootProgress: false,
    resetTypes: [
      "On",
      "ForceOff",
      "ForceRestart",
      "GracefulRestart",
      "GracefulShutdown",
      "PushPowerButton",
      "Nmi",
      "PowerCycle",
    ],
    resetActionInfo: false,
    managerResetTypes: ["GracefulRestart"],
    managerResetRestartsDpu: false,
    updateInstallsNow: false,
    osInventoryId: "DPU_OS",
    actionStatus: 204,
  },
  bluefield: {
    name: "bluefield",
    note: "OpenBMC/BlueField-like: no virtual media, boot changes through the Settings object at the next reset, OEM BootProgress, SimpleUpdate of a BFB to FirmwareInventory/DPU_OS, UEFI HTTP boot",
    vendor: "Nvidia",
    product: "BlueField BMC",
    systemId: "Bluefield",
    managerId: "Bluefield_BMC",
    chassisId: "Card1",
    manufacturer: "Nvidia",
    model: "BlueField-3 SmartNIC Main Card",
    managerFirmware: "BF-24.10-17",
    bootTargets: ["None", "Pxe", "UefiHttp", "UefiShell", "UefiTarget", "UefiBootNext"],
    bootModes: ["UEFI"],
    settingsObject: true,
    oemBootProgress: true,
    resetTypes: [
      "On",
      "ForceOff",
      "ForceOn",
      "ForceRestart",
      "GracefulRestart",
      "GracefulShutdown",
      "PowerCycle",
      "Nmi",
    ],
    resetActionInfo: true,
    managerResetTypes: ["GracefulRestart", "ForceRestart"],
    managerResetRestartsDpu: false,
    updateInstallsNow: true,
    osInventoryId: "DPU_OS",
    actionStatus: 200,
  },
  "intel-ipu": {
    name: "intel-ipu",
    note: "Intel IPU-like: InsertMedia with TransferMethod Upload answered by 202 + task, only graceful resets, Manager.Reset restarts the IPU, no UEFI HTTP boot",
    vendor: "Intel",
    product: "Intel IPU E2100 IMC",
    systemId: "1",
    managerId: "1",
    chassisId: "1",
    manufacturer: "Intel Corporation",
    model: "IPU E2100",
    managerFirmware: "MEV-1.8.0.10",
    virtualMedia: { under: "system", id: "1", uploadOnly: true, patchable: false },
    bootTargets: ["None", "Cd", "Hdd", "Pxe"],
    bootModes: ["UEFI"],
    settingsObject: false,
    oemBootProgress: false,
    resetTypes: ["GracefulShutdown", "GracefulRestart"],
    resetActionInfo: false,
    managerResetTypes: ["ForceRestart", "GracefulRestart"],
    managerResetRestartsDpu: true,
    updateInstallsNow: false,
    osInventoryId: "DPU_OS",
    actionStatus: 204,
  },
};

/** Canonical URIs of one profile's resources. */
export interface ProfilePaths {
  readonly systems: string;
  readonly system: string;
  readonly settings: string;
  readonly resetActionInfo: string;
  readonly managers: string;
  readonly manager: string;
  readonly chassisCollection: string;
  readonly chassis: string;
  readonly vmCollection?: string;
  readonly vm?: string;
  /** The second slot, where the profile has one. */
  readonly vm2?: string;
}

/** Builds the URIs of a profile. */
export function pathsOf(p: ProfileDef): ProfilePaths {
  const system = `/redfish/v1/Systems/${p.systemId}`;
  const manager = `/redfish/v1/Managers/${p.managerId}`;
  const vmParent = p.virtualMedia ? (p.virtualMedia.under === "system" ? system : manager) : undefined;
  return {
    systems: "/redfish/v1/Systems",
    system,
    settings: `${system}/Settings`,
    resetActionInfo: `${system}/ResetActionInfo`,
    managers: "/redfish/v1/Managers",
    manager,
    chassisCollection: "/redfish/v1/Chassis",
    chassis: `/redfish/v1/Chassis/${p.chassisId}`,
    vmCollection: vmParent ? `${vmParent}/VirtualMedia` : undefined,
    vm: vmParent && p.virtualMedia ? `${vmParent}/VirtualMedia/${p.virtualMedia.id}` : undefined,
    vm2:
      vmParent && p.virtualMedia?.second ? `${vmParent}/VirtualMedia/${p.virtualMedia.second.id}` : undefined,
  };
}
