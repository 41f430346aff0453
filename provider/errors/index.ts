export { DpuError, isDpuError } from "./dpu-error";
export { isRedfishHttpError, RedfishHttpError, type RedfishMessage } from "./redfish-http-error";
export { HostKeyMismatchError, SshCommandError, SshConnectError } from "./ssh-errors";
export { TimeoutError } from "./timeout-error";
export { type InputProblem, ValidationError } from "./validation-error";
