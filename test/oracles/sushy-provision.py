#!/usr/bin/python3
"""Provisions one simulated DPU with Ironic's Redfish library (sushy), the way Ironic's conductor would.

Independent-client oracle: nothing here knows the simulator's code. Inputs:
  ORACLE_CONFIG      path of a JSON file: {"url", "caFile", "systemId", "image"?, "bfb"?, "bfbTarget"?}
                     (an ISO image: virtual media; else a bundle through SimpleUpdate, or neither: power only)
  REDFISH_USERNAME   BMC user name (environment, never argv)
  REDFISH_PASSWORD   BMC password (environment, never argv)
Output: one JSON object on stdout: {"client", "version", "ok", "steps": [...], "observed": {...}, "error"?}.
The exit status is 0 only when every step passed. Secrets are never printed.
"""

import json
import os
import sys
import time
import traceback

import sushy
from sushy import exceptions
from sushy.resources.manager import virtual_media as sushy_vm

POLL_S = 0.2


def wait_for(what, fn, timeout_s=60.0):
    """Polls fn() until it returns a truthy value; raises after timeout_s."""
    deadline = time.monotonic() + timeout_s
    last = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(POLL_S)
    raise TimeoutError("timed out after %.0f s waiting for %s" % (timeout_s, what))


class Run:
    def __init__(self):
        self.steps = []
        self.observed = {}

    def step(self, name, detail=None):
        self.steps.append({"step": name, **({"detail": detail} if detail is not None else {})})


def cd_slots(root, system, run):
    """Virtual-media CD slots: the system's own collection first (ComputerSystem >= 1.13), then managers'.

    sushy 4.3.x has no ComputerSystem.virtual_media (Ironic reaches system slots only with newer sushy), so
    the system's link is followed with sushy's own VirtualMediaCollection class.
    """
    slots = []
    sys_vm = getattr(system, "virtual_media", None) if hasattr(type(system), "virtual_media") else None
    if sys_vm is not None:
        slots += [("system", m) for m in sys_vm.get_members()]
    else:
        link = (system.json.get("VirtualMedia") or {}).get("@odata.id")
        if link:
            coll = sushy_vm.VirtualMediaCollection(system._conn, link, redfish_version=system.redfish_version)
            slots += [("system-link", m) for m in coll.get_members()]
    for manager in system.managers:
        try:
            coll = manager.virtual_media
        except exceptions.MissingAttributeError:
            continue
        slots += [("manager", m) for m in coll.get_members()]
    run.observed["virtualMediaSlots"] = [
        {"via": via, "path": m.path, "mediaTypes": [str(t.value) for t in (m.media_types or [])]}
        for via, m in slots
    ]
    return [(via, m) for via, m in slots if any(t.value in ("CD", "DVD") for t in (m.media_types or []))]


def pick_restart(system):
    allowed = system.get_allowed_reset_system_values()
    for want in (sushy.ResetType.FORCE_RESTART, sushy.ResetType.GRACEFUL_RESTART, sushy.ResetType.POWER_CYCLE):
        if want in allowed:
            return want
    raise RuntimeError("no restart ResetType allowed: %s" % sorted(str(v) for v in allowed))


def wait_power(system, run, label, state):
    def reached():
        system.refresh()
        return system.power_state == state

    wait_for("%s: PowerState %s" % (label, state.value), reached, 60)
    run.step("%s: power %s" % (label, state.value))


def wait_power_on(system, run, label):
    wait_power(system, run, label, sushy.POWER_STATE_ON)


def reboot(system, run, label):
    """Reboots the way Ironic's redfish power interface does, where the BMC allows it: ForceOff, wait until the
    BMC shows Off, On, wait until it shows On (ironic/drivers/modules/redfish/power.py reboot and
    _set_power_state; redfish.md §1.6). Waiting for Off first is what copes with a BMC that applies power changes
    late (an OpenBMC power-off shows On for a while: xcat2/xcat-core#4047, openbmc/openbmc#2471); a restart
    followed by a wait for On would see the old On and go on before the reset happened. Where the BMC offers no
    ForceOff/On pair (Intel IPU: graceful resets only), a restart."""
    allowed = system.get_allowed_reset_system_values()
    on = next((t for t in (sushy.ResetType.ON, sushy.ResetType.FORCE_ON) if t in allowed), None)
    if sushy.ResetType.FORCE_OFF in allowed and on is not None:
        system.reset_system(sushy.ResetType.FORCE_OFF)
        run.step("%s: reset_system" % label, "ForceOff")
        wait_power(system, run, label, sushy.POWER_STATE_OFF)
        system.reset_system(on)
        run.step("%s: reset_system" % label, str(on.value))
    else:
        restart = pick_restart(system)
        system.reset_system(restart)
        run.step("%s: reset_system" % label, str(restart.value))
    wait_power_on(system, run, label)


def provision_virtual_media(cfg, root, system, run):
    slots = cd_slots(root, system, run)
    if not slots:
        raise RuntimeError("no virtual-media CD slot found")
    via, vm = slots[0]
    run.observed["slot"] = {"via": via, "path": vm.path}
    # Ironic ejects first (prepare_ramdisk: _eject_vmedia then _insert_vmedia).
    if vm.inserted:
        vm.eject_media()
        run.step("eject stale media")
    allowed = (vm.json.get("Actions", {}).get("#VirtualMedia.InsertMedia", {})).get(
        "TransferMethod@Redfish.AllowableValues"
    )
    transfer = None
    if allowed and "Stream" not in allowed:
        # An Upload-only BMC (Intel IPU) requires the method; sushy sends none unless asked.
        transfer = allowed[0]
    vm.insert_media(cfg["image"], inserted=True, write_protected=True, transfer_method=transfer)
    run.step("insert_media", {"transferMethod": transfer})

    def inserted():
        vm.refresh()
        return vm.inserted and vm.image == cfg["image"]

    wait_for("media inserted", inserted, 60)
    run.observed["insertedImage"] = vm.image
    system.set_system_boot_options(target=sushy.BOOT_SOURCE_TARGET_CD, enabled=sushy.BOOT_SOURCE_ENABLED_ONCE)
    system.refresh()
    run.observed["bootOverride"] = {
        "target": str(system.boot.target.value) if system.boot.target else None,
        "enabled": str(system.boot.enabled.value) if system.boot.enabled else None,
    }
    run.step("set_system_boot_options cd once", run.observed["bootOverride"])
    reboot(system, run, "reboot")
    vm.eject_media()
    vm.refresh()
    run.observed["insertedAfterEject"] = bool(vm.inserted)
    run.step("eject_media")


def provision_no_virtual_media(cfg, root, system, run):
    slots = cd_slots(root, system, run)
    run.observed["cdSlots"] = len(slots)
    allowed = system.get_allowed_system_boot_source_values()
    run.observed["bootTargets"] = sorted(str(v.value) for v in allowed)
    if cfg.get("bfb"):
        updater = root.get_update_service()
        protocols = updater.get_allowed_transfer_protocols()
        run.observed["updateProtocols"] = sorted(str(getattr(p, "value", p)) for p in protocols)
        monitor = updater.simple_update(cfg["bfb"], targets=[cfg["bfbTarget"]], transfer_protocol="HTTP")
        run.step("simple_update", monitor.task_monitor_uri if monitor else None)

        # sushy 4.3.x takes the Task's @odata.id from the 202 body as the task monitor (DSP0266: the monitor is
        # the Location header), so is_processing turns False at the first refresh, whatever the task does.
        # Ironic-style consumers then read the task: poll its TaskState until it ends.
        def done():
            task = monitor.get_task()
            state = str(getattr(task.task_state, "value", task.task_state))
            return state if state in ("Completed", "Exception", "Killed", "Cancelled") else None

        run.observed["taskState"] = wait_for("SimpleUpdate task", done, 120)
        if run.observed["taskState"] != "Completed":
            raise RuntimeError("SimpleUpdate task ended %s" % run.observed["taskState"])
        run.step("simple_update done")
        wait_power_on(system, run, "after update")
    # A one-time boot override (where sushy puts it: the Settings object when the BMC has one), consumed by the
    # restart below: "Once" is reset to Disabled after that boot (ComputerSystem BootSourceOverrideEnabled).
    if sushy.BOOT_SOURCE_TARGET_PXE in allowed:
        system.set_system_boot_options(
            target=sushy.BOOT_SOURCE_TARGET_PXE, enabled=sushy.BOOT_SOURCE_ENABLED_ONCE
        )
        run.step("set_system_boot_options pxe once")
    reboot(system, run, "reboot")


def main():
    run = Run()
    out = {"client": "sushy", "version": getattr(sushy, "__version__", None), "ok": False}
    try:
        with open(os.environ["ORACLE_CONFIG"], encoding="utf-8") as f:
            cfg = json.load(f)
        root = sushy.Sushy(
            cfg["url"] + "/redfish/v1",
            username=os.environ["REDFISH_USERNAME"],
            password=os.environ["REDFISH_PASSWORD"],
            verify=cfg["caFile"],
        )
        system = root.get_system("/redfish/v1/Systems/" + cfg["systemId"])
        run.observed["powerBefore"] = str(system.power_state.value) if system.power_state else None
        run.step("get_system", system.identity)
        if cfg.get("image"):
            provision_virtual_media(cfg, root, system, run)
        else:
            provision_no_virtual_media(cfg, root, system, run)
        system.refresh()
        run.observed["powerAfter"] = str(system.power_state.value) if system.power_state else None
        out["ok"] = True
    except Exception as e:  # report every failure as data; the test asserts on it
        out["error"] = "%s: %s" % (type(e).__name__, e)
        out["trace"] = traceback.format_exc(limit=6)
    out["steps"] = run.steps
    out["observed"] = run.observed
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")
    return 0 if out["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
