import type { BmcContext } from "../context";
import { httpError } from "../errors";
import { taskBody } from "../resources/tasks";
import type { Reply, Router } from "../router";
import type { TaskRecord } from "../state";

/** Dell job id of the n-th task: `JID_` and twelve digits, as iDRAC numbers its jobs. */
export function jobId(n: number): string {
  return `JID_${String(700_000_000_000 + n)}`;
}

/** iDRAC-style 202 for an operation that became a job: `Location` is the job, not a task monitor. */
export function jobAccepted(t: TaskRecord, monitorBase: string): Reply {
  return {
    status: 202,
    body: taskBody(t),
    headers: { Location: `${monitorBase}/${t.id}`, "Retry-After": "1" },
  };
}

/** A DellJob body (Dell OEM schema): JobState, PercentComplete and the last message, answered 200 throughout. */
function jobBody(t: TaskRecord, monitorBase: string): Record<string, unknown> {
  const last = t.messages[t.messages.length - 1];
  return {
    "@odata.type": "#DellJob.v1_5_0.DellJob",
    "@odata.id": `${monitorBase}/${t.id}`,
    Id: t.id,
    Name: t.name,
    JobType: "RepositoryUpdate",
    JobState: t.state === "Completed" ? "Completed" : t.state === "Exception" ? "Failed" : "Running",
    PercentComplete: t.percent,
    StartTime: t.startTime,
    ...(t.endTime ? { CompletionTime: t.endTime } : {}),
    Message: last?.Message ?? "Job in progress.",
    MessageId: last?.MessageId ?? "",
    MessageArgs: last?.MessageArgs ?? [],
  };
}

/** The job resources `<monitorBase>/JID_…` of the BMC's tasks (GET, 200 while running and after). */
export function registerJobs(r: Router, c: BmcContext, monitorBase: string): void {
  r.add(`${monitorBase}/:id`, {
    GET: ({ params }) => {
      const t = c.tasks.tasks.get(params.id ?? "");
      if (!t) throw httpError(404, "ResourceNotFound", ["DellJob", params.id ?? ""]);
      return { status: 200, body: jobBody(t, monitorBase) };
    },
  });
}
