import { type BmcContext, collection } from "../context";
import { httpError } from "../errors";
import type { Reply, Router } from "../router";
import type { TaskRecord } from "../state";

const SERVICE = "/redfish/v1/TaskService";
const TASKS = `${SERVICE}/Tasks`;
const MONITORS = `${SERVICE}/TaskMonitors`;

/** Task monitor URI of a task. */
export function monitorUri(t: TaskRecord): string {
  return `${MONITORS}/${t.id}`;
}

/** The Task resource body. */
export function taskBody(t: TaskRecord): Record<string, unknown> {
  const body: Record<string, unknown> = {
    "@odata.type": "#Task.v1_7_4.Task",
    "@odata.id": `${TASKS}/${t.id}`,
    Id: t.id,
    Name: t.name,
    TaskState: t.state,
    TaskStatus: t.status,
    PercentComplete: t.percent,
    StartTime: t.startTime,
    TaskMonitor: monitorUri(t),
    Messages: t.messages,
    Payload: { TargetUri: t.targetUri, HttpOperation: "POST" },
  };
  if (t.endTime) body.EndTime = t.endTime;
  return body;
}

/** 202 Accepted for an operation that became a task: Location = task monitor, body = the Task. */
export function taskAccepted(t: TaskRecord): Reply {
  return { status: 202, body: taskBody(t), headers: { Location: monitorUri(t), "Retry-After": "1" } };
}

/** TaskService, Tasks and task monitors (202 while running, then the operation's final result). */
export function registerTasks(r: Router, c: BmcContext): void {
  const find = (id: string | undefined): TaskRecord => {
    const t = c.tasks.tasks.get(id ?? "");
    if (!t) throw httpError(404, "ResourceNotFound", ["Task", id ?? ""]);
    return t;
  };
  r.add(SERVICE, {
    GET: () => ({
      status: 200,
      body: {
        "@odata.type": "#TaskService.v1_3_0.TaskService",
        "@odata.id": SERVICE,
        Id: "TaskService",
        Name: "Task Service",
        ServiceEnabled: true,
        CompletedTaskOverWritePolicy: "Oldest",
        LifeCycleEventOnTaskStateChange: false,
        Status: { State: "Enabled", Health: "OK" },
        Tasks: { "@odata.id": TASKS },
      },
    }),
  });
  r.add(TASKS, {
    GET: () => ({
      status: 200,
      body: collection(
        "TaskCollection",
        TASKS,
        "Task Collection",
        [...c.tasks.tasks.keys()].map((id) => `${TASKS}/${id}`),
      ),
    }),
  });
  r.add(`${TASKS}/:id`, { GET: ({ params }) => ({ status: 200, body: taskBody(find(params.id)) }) });
  r.add(`${MONITORS}/:id`, {
    GET: ({ params }) => {
      const t = find(params.id);
      if (!t.result) return taskAccepted(t);
      return { status: t.result.status, body: t.result.body ?? taskBody(t) };
    },
    // DSP0266: a client cancels an asynchronous operation with DELETE on its task monitor.
    DELETE: ({ params }) => {
      const t = find(params.id);
      if (!c.tasks.cancel(t.id)) throw httpError(405, "OperationNotAllowed");
      return { status: 204 };
    },
  });
}
