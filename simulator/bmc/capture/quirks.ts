import type { CaptureBmcProfileName, QuirkBmcProfileName } from "../../contracts";
import type { TreeEdit } from "./tree-edit";

/** Behaviour switches the capture handlers check (a tree cannot show these). */
export interface QuirkSwitches {
  /** Dell job-style tasks: ids `JID_…`, `Location` to `<monitorBase>/JID_…` (a DellJob answered 200). */
  readonly jobTasks?: { readonly monitorBase: string };
  /** No SessionService at all: only Basic authentication works. */
  readonly noSessions?: boolean;
  /** A PATCH of `BootSourceOverrideEnabled` is accepted and ignored: every override is Continuous. */
  readonly ignoreOverrideEnabled?: boolean;
  /** Reset actions answer at once and take effect this many ms later (uniform in [min, max]). */
  readonly powerDelayMs?: readonly [number, number];
  /** After a reset, BootProgress keeps its pre-reset state and LastStateTime for this many ms. */
  readonly staleBootProgressMs?: number;
  /** BlueField: `Oem/Nvidia` `Mode` shows the mode of operation (the shared capture shows `""`). */
  readonly reportsMode?: boolean;
  /** EjectMedia is offered (and accepted) only while media is inserted. */
  readonly ejectOnlyWhileInserted?: boolean;
  /** An eject leaves `ImageName` set (only `ConnectedVia: NotConnected` and `Inserted: false` say it is empty). */
  readonly ejectKeepsImageName?: boolean;
  /** EjectMedia with no body is refused (400 MalformedJSON); `{}` works. */
  readonly ejectRequiresBody?: boolean;
  /** Slot URI → the slot it is another name of (same media, same boot device). */
  readonly slotAliases?: Readonly<Record<string, string>>;
}

/** A quirk profile: a capture-backed base, tree edits as data, behaviour switches, and what it reproduces. */
export interface QuirkProfileSpec {
  readonly base: CaptureBmcProfileName;
  /** One line: what it reproduces, and the public source of that behaviour. */
  readonly note: string;
  readonly edits: readonly TreeEdit[];
  readonly switches: QuirkSwitches;
}

const RACK_SYS = "/redfish/v1/Systems/437XR1138R2";
const TOWER_SYS = "/redfish/v1/Systems/437XR1238R2";
const IDRAC = "/redfish/v1/Managers/iDRAC.Embedded.1";
const vmActions = (slot: string, eject = true) => ({
  "#VirtualMedia.InsertMedia": { target: `${slot}/Actions/VirtualMedia.InsertMedia` },
  ...(eject ? { "#VirtualMedia.EjectMedia": { target: `${slot}/Actions/VirtualMedia.EjectMedia` } } : {}),
});
const emptySlot = (slot: string): TreeEdit[] => [
  { op: "set", path: slot, pointer: ["Inserted"], value: false },
  { op: "set", path: slot, pointer: ["Image"], value: null },
  { op: "set", path: slot, pointer: ["ConnectedVia"], value: "NotConnected" },
];

/** The quirk profiles (sources: /work/shared/docs/redfish.md §1.4, §2.6 and the references it names). */
export const QUIRK_PROFILES: Readonly<Record<QuirkBmcProfileName, QuirkProfileSpec>> = {
  "quirk-idrac": {
    base: "capture-rackmount1",
    note: "Dell iDRAC9 6.x-like: manager iDRAC.Embedded.1, no BootProgress, InsertMedia/EjectMedia under Systems without TransferMethod plus deprecated Manager slots, JID_ job Location (redfish.md §2.6; dell/terraform-provider-redfish GetVMEnv, job_management.go)",
    edits: [
      { op: "rename", from: "/redfish/v1/Managers/BMC", to: IDRAC },
      { op: "set", path: IDRAC, pointer: ["Id"], value: "iDRAC.Embedded.1" },
      { op: "remove", path: RACK_SYS, pointer: ["BootProgress"] },
      {
        op: "set",
        path: `${RACK_SYS}/VirtualMedia/CD1`,
        pointer: ["Actions"],
        value: vmActions(`${RACK_SYS}/VirtualMedia/CD1`),
      },
      { op: "drop", path: `${RACK_SYS}/VirtualMedia/CD2` },
      { op: "copy", from: `${RACK_SYS}/VirtualMedia`, to: `${IDRAC}/VirtualMedia` },
      { op: "set", path: IDRAC, pointer: ["VirtualMedia"], value: { "@odata.id": `${IDRAC}/VirtualMedia` } },
    ],
    switches: {
      jobTasks: { monitorBase: `${IDRAC}/Jobs` },
      slotAliases: {
        [`${IDRAC}/VirtualMedia/CD1`]: `${RACK_SYS}/VirtualMedia/CD1`,
        [`${IDRAC}/VirtualMedia/Floppy1`]: `${RACK_SYS}/VirtualMedia/Floppy1`,
      },
    },
  },
  "quirk-ilo": {
    base: "capture-tower",
    note: "HPE iLO-like: virtual media only under the manager (id BMC, not 1), no BootProgress, EjectMedia needs a {} body (redfish.md §1.4, §2.6; sushy virtual_media.py eject_media)",
    edits: [
      {
        op: "set",
        path: "/redfish/v1/Managers/BMC/VirtualMedia/CD1",
        pointer: ["Actions"],
        value: vmActions("/redfish/v1/Managers/BMC/VirtualMedia/CD1"),
      },
    ],
    switches: { ejectRequiresBody: true },
  },
  "quirk-supermicro": {
    base: "capture-tower",
    note: "Supermicro X12-like: Managers/1 slots NotConnected when empty but ImageName never cleared, not even by an eject (community.general #6969, fixed by #12537: older community.general finds no empty CD slot), EjectMedia offered only while inserted, SimpleUpdate protocols in an ActionInfo (redfish.md §2.6; libredfish supermicro mockup)",
    edits: [
      { op: "rename", from: "/redfish/v1/Managers/BMC", to: "/redfish/v1/Managers/1" },
      { op: "set", path: "/redfish/v1/Managers/1", pointer: ["Id"], value: "1" },
      ...emptySlot("/redfish/v1/Managers/1/VirtualMedia/CD1"),
      ...emptySlot("/redfish/v1/Managers/1/VirtualMedia/Floppy1"),
      {
        op: "set",
        path: "/redfish/v1/Managers/1/VirtualMedia/CD1",
        pointer: ["Actions"],
        value: vmActions("/redfish/v1/Managers/1/VirtualMedia/CD1"),
      },
      {
        op: "set",
        path: "/redfish/v1/UpdateService/SimpleUpdateActionInfo",
        pointer: ["Parameters"],
        value: [
          { Name: "ImageURI", Required: true, DataType: "String" },
          {
            Name: "TransferProtocol",
            Required: false,
            DataType: "String",
            AllowableValues: ["HTTP", "HTTPS"],
          },
        ],
      },
    ],
    switches: { ejectOnlyWhileInserted: true, ejectKeepsImageName: true },
  },
  "quirk-xcc": {
    base: "capture-rackmount1",
    note: "Lenovo XCC-like: virtual media by PATCH only (no actions) under Systems and Managers, a Pending settings object holding only BootOrder (redfish.md §1.4, §2.6; libredfish lenovo mockup, sushy _allow_patch)",
    edits: [
      { op: "drop", path: `${RACK_SYS}/VirtualMedia/CD2` },
      { op: "set", path: RACK_SYS, pointer: ["Boot", "BootOrder"], value: ["Boot0001", "Boot0002"] },
      {
        op: "set",
        path: RACK_SYS,
        pointer: ["@Redfish.Settings"],
        value: {
          "@odata.type": "#Settings.v1_3_5.Settings",
          SettingsObject: { "@odata.id": `${RACK_SYS}/Pending` },
        },
      },
      {
        op: "add",
        path: `${RACK_SYS}/Pending`,
        body: {
          "@odata.id": `${RACK_SYS}/Pending`,
          "@odata.type": "#ComputerSystem.v1_27_0.ComputerSystem",
          Id: "Pending",
          Name: "Pending settings",
          Boot: { BootOrder: ["Boot0001", "Boot0002"] },
        },
      },
      { op: "copy", from: `${RACK_SYS}/VirtualMedia`, to: "/redfish/v1/Managers/BMC/VirtualMedia" },
      {
        op: "set",
        path: "/redfish/v1/Managers/BMC",
        pointer: ["VirtualMedia"],
        value: { "@odata.id": "/redfish/v1/Managers/BMC/VirtualMedia" },
      },
    ],
    switches: {},
  },
  "quirk-bluefield-old": {
    base: "capture-bluefield",
    note: "BlueField BMC, older firmware: SCP-only SimpleUpdate with nested AllowableValues, BootProgress showing the pre-reset state for a while after a reset (shared nvidia-bluefield-bmc capture; redfish.md §1.6)",
    edits: [],
    switches: { staleBootProgressMs: 5000 },
  },
  "quirk-bluefield-new": {
    base: "capture-bluefield",
    note: "BlueField BMC, newer firmware: SimpleUpdate over HTTP/HTTPS, HttpPushUri advertised (NVIDIA BlueField BMC docs; opi-prov-life vendors/nvidia)",
    edits: [
      {
        op: "set",
        path: "/redfish/v1/UpdateService",
        pointer: ["Actions", "#UpdateService.SimpleUpdate", "TransferProtocol@Redfish.AllowableValues"],
        value: ["HTTP", "HTTPS"],
      },
      // Deferred updates (NVIDIA BlueField BMC v25.10, "Deploying Software Using BFB", Deferred Update Flow on
      // BlueField-3: staged, active after a reset), advertised the DMTF way (DSP0266 "Operation apply time").
      // The shared capture (older firmware) advertises no apply time for SimpleUpdate.
      {
        op: "set",
        path: "/redfish/v1/UpdateService",
        pointer: ["Actions", "#UpdateService.SimpleUpdate", "@Redfish.OperationApplyTimeSupport"],
        value: {
          "@odata.type": "#Settings.v1_3_3.OperationApplyTimeSupport",
          SupportedValues: ["Immediate", "OnReset"],
        },
      },
    ],
    // Newer firmware reads the mode back (NVIDIA BlueField BMC, "BlueField Modes of Operation Configuration":
    // the current setting appears under Mode); the older capture's `Mode: ""` stays with quirk-bluefield-old.
    switches: { reportsMode: true },
  },
  "quirk-emulator": {
    base: "capture-tower",
    note: "sushy-tools-like emulator: no SessionService (Basic only), BootSourceOverrideEnabled ignored, power changes applied 1-10 s late (redfish.md §1.2, §1.6; issue 13)",
    edits: [
      { op: "drop", path: "/redfish/v1/SessionService" },
      { op: "remove", path: "/redfish/v1", pointer: ["Links", "Sessions"] },
      {
        op: "set",
        path: "/redfish/v1/Managers/BMC/VirtualMedia/CD1",
        pointer: ["Actions"],
        value: vmActions("/redfish/v1/Managers/BMC/VirtualMedia/CD1"),
      },
      { op: "set", path: TOWER_SYS, pointer: ["Boot", "BootSourceOverrideEnabled"], value: "Continuous" },
    ],
    switches: { noSessions: true, ignoreOverrideEnabled: true, powerDelayMs: [1000, 10_000] },
  },
  "quirk-bare": {
    base: "capture-rackmount1",
    note: "A bare BMC: power, boot override and one CD slot written by PATCH; no BootProgress, no UpdateService, no events, no certificates (redfish.md §1.4 'when the actions are absent')",
    edits: [
      { op: "remove", path: RACK_SYS, pointer: ["BootProgress"] },
      { op: "drop", path: "/redfish/v1/UpdateService" },
      { op: "drop", path: "/redfish/v1/EventService" },
      { op: "drop", path: "/redfish/v1/CertificateService" },
      { op: "drop", path: "/redfish/v1/KeyService" },
      { op: "drop", path: "/redfish/v1/ComponentIntegrity" },
      { op: "drop", path: `${RACK_SYS}/VirtualMedia/CD2` },
      { op: "drop", path: `${RACK_SYS}/VirtualMedia/Floppy1` },
    ],
    switches: {},
  },
};

/** True for a quirk profile name. */
export function isQuirkProfile(name: string): name is QuirkBmcProfileName {
  return Object.hasOwn(QUIRK_PROFILES, name);
}
