import type { BmcContext } from "../context";
import { httpError } from "../errors";
import { taskAccepted } from "../resources/tasks";
import { type FetchedUpdate, installOrStage } from "../resources/update-service";
import type { Reply } from "../router";
import { jobAccepted } from "./jobs";
import type { CaptureModel } from "./model";

/**
 * Starts the firmware-update task every update path shares (SimpleUpdate, HttpPushUri, MultipartHttpPushUri):
 * one update at a time (`ResourceInUse` otherwise); `obtain` gets the image inside the task (a fetch, or the
 * pushed bytes), which is then installed at once with a reboot (`installsNow`, BlueField) or staged until the
 * next reset. Answers 202 with the task (or, iDRAC-like, the job) to poll.
 */
export function startUpdateTask(
  c: BmcContext,
  m: CaptureModel,
  origin: string,
  source: string,
  installsNow: boolean,
  obtain: () => Promise<FetchedUpdate>,
): Reply {
  const s = c.state;
  if (s.updateInProgress) throw httpError(400, "ResourceInUse");
  s.updateInProgress = true;
  const task = c.tasks.start("Firmware update", origin, async (h) => {
    try {
      h.progress(10);
      const image = await obtain();
      h.progress(50);
      await h.minDuration();
      await installOrStage(c, image, source, installsNow);
    } finally {
      s.updateInProgress = false;
    }
  });
  const jobs = m.spec.quirks?.jobTasks;
  return jobs ? jobAccepted(task, jobs.monitorBase) : taskAccepted(task);
}
