#!/usr/bin/python3
"""Peer benchmark driver: provisions DPUs with Ironic's Redfish library (Debian python3-sushy), the way Ironic's
conductor does it: one process, one worker thread per node, each running insert the ISO, boot once from CD,
restart, wait for power On, eject.

Inputs:
  PEER_CONFIG   path of a JSON file: {"pollMs": int, "dpus": [{"url", "caFile", "systemId", "image"}]}
  REDFISH_USERNAME_<i>, REDFISH_PASSWORD_<i>   credentials of DPU i (environment, never argv)
Output: one JSON line {"ok": bool, "errors": [...]}; exit status 0 only when every DPU was provisioned.
"""

import json
import os
import sys
import threading
import time

import sushy


def provision(i, dpu, poll_s, errors):
    try:
        root = sushy.Sushy(
            dpu["url"] + "/redfish/v1",
            username=os.environ["REDFISH_USERNAME_%d" % i],
            password=os.environ["REDFISH_PASSWORD_%d" % i],
            verify=dpu["caFile"],
        )
        system = root.get_system("/redfish/v1/Systems/" + dpu["systemId"])
        vm = None
        for manager in system.managers:
            for m in manager.virtual_media.get_members():
                if any(t.value in ("CD", "DVD") for t in (m.media_types or [])):
                    vm = m
                    break
            if vm is not None:
                break
        if vm is None:
            raise RuntimeError("no virtual-media CD slot")
        vm.insert_media(dpu["image"], inserted=True, write_protected=True)
        system.set_system_boot_options(target=sushy.BOOT_SOURCE_TARGET_CD, enabled=sushy.BOOT_SOURCE_ENABLED_ONCE)
        system.reset_system(sushy.ResetType.FORCE_RESTART)
        deadline = time.monotonic() + 60
        while True:
            system.refresh()
            if system.power_state == sushy.POWER_STATE_ON:
                break
            if time.monotonic() > deadline:
                raise TimeoutError("power On")
            time.sleep(poll_s)
        vm.eject_media()
    except Exception as e:  # reported as data; the benchmark fails the run
        errors.append("DPU %d: %s: %s" % (i, type(e).__name__, e))


def main():
    with open(os.environ["PEER_CONFIG"], encoding="utf-8") as f:
        cfg = json.load(f)
    errors = []
    poll_s = cfg["pollMs"] / 1000.0
    threads = [
        threading.Thread(target=provision, args=(i, d, poll_s, errors)) for i, d in enumerate(cfg["dpus"])
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    json.dump({"ok": not errors, "errors": errors}, sys.stdout)
    sys.stdout.write("\n")
    return 0 if not errors else 1


if __name__ == "__main__":
    sys.exit(main())
