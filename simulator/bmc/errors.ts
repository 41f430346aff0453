/**
 * Redfish error bodies built from a small copy of the DMTF Base message registry (Base.1.22.1).
 * The simulator must not read the shared registry at run time; tests check every key below against it.
 */

/** MessageId prefix: registry name plus major.minor version, as MessageIds are spelled. */
export const BASE_REGISTRY_PREFIX = "Base.1.22";

interface MessageDef {
  readonly message: string;
  readonly severity: "OK" | "Warning" | "Critical";
  readonly resolution: string;
}

/** The Base registry messages the simulator emits (text copied from the registry's `Message`). */
export const MESSAGES = {
  Success: { message: "The request completed successfully.", severity: "OK", resolution: "None." },
  Created: { message: "The resource was created successfully.", severity: "OK", resolution: "None." },
  GeneralError: {
    message:
      "A general error has occurred.  See Resolution for information on how to resolve the error, or @Message.ExtendedInfo if Resolution is not provided.",
    severity: "Critical",
    resolution: "None.",
  },
  NoValidSession: {
    message: "There is no valid session established with the implementation.",
    severity: "Critical",
    resolution: "Establish a session before attempting any operations.",
  },
  InsufficientPrivilege: {
    message:
      "There are insufficient privileges for the account or credentials associated with the current session to perform the requested operation.",
    severity: "Critical",
    resolution:
      "Either abandon the operation or change the associated access rights and resubmit the request if the operation failed.",
  },
  ResourceNotFound: {
    message: "The requested resource of type %1 named '%2' was not found.",
    severity: "Critical",
    resolution: "Provide a valid resource identifier and resubmit the request.",
  },
  OperationNotAllowed: {
    message: "The HTTP method is not allowed on this resource.",
    severity: "Critical",
    resolution: "None.",
  },
  PreconditionFailed: {
    message: "The ETag supplied did not match the ETag required to change this resource.",
    severity: "Critical",
    resolution: "Try the operation again using the appropriate ETag.",
  },
  PropertyUnknown: {
    message: "The property %1 is not in the list of valid properties for the resource.",
    severity: "Warning",
    resolution:
      "Remove the unknown property from the request body and resubmit the request if the operation failed.",
  },
  PropertyNotWritable: {
    message: "The property %1 is a read-only property and cannot be assigned a value.",
    severity: "Warning",
    resolution: "Remove the property from the request body and resubmit the request if the operation failed.",
  },
  PropertyValueNotInList: {
    message: "The value '%1' for the property %2 is not in the list of acceptable values.",
    severity: "Warning",
    resolution:
      "Choose a value from the enumeration list that the implementation can support and resubmit the request if the operation failed.",
  },
  PropertyValueTypeError: {
    message: "The value '%1' for the property %2 is not a type that the property can accept.",
    severity: "Warning",
    resolution:
      "Correct the value for the property in the request body and resubmit the request if the operation failed.",
  },
  PropertyValueFormatError: {
    message: "The value '%1' for the property %2 is not a format that the property can accept.",
    severity: "Warning",
    resolution:
      "Correct the value for the property in the request body and resubmit the request if the operation failed.",
  },
  PropertyMissing: {
    message: "The property %1 is a required property and must be included in the request.",
    severity: "Warning",
    resolution:
      "Ensure that the property is in the request body and has a valid value and resubmit the request if the operation failed.",
  },
  MalformedJSON: {
    message:
      "The request body submitted was malformed JSON and could not be parsed by the receiving service.",
    severity: "Critical",
    resolution: "Ensure that the request body is valid JSON and resubmit the request.",
  },
  ActionNotSupported: {
    message: "The action %1 is not supported by the resource.",
    severity: "Critical",
    resolution: "Check the Actions property in the resource for the supported actions.",
  },
  ActionParameterMissing: {
    message: "The action %1 requires the parameter %2 to be present in the request body.",
    severity: "Critical",
    resolution:
      "Supply the action with the required parameter in the request body when the request is resubmitted.",
  },
  ActionParameterUnknown: {
    message: "The action %1 was submitted with the invalid parameter %2.",
    severity: "Warning",
    resolution: "Correct the invalid action parameter and resubmit the request if the operation failed.",
  },
  ActionParameterValueNotInList: {
    message: "The value '%1' for the parameter %2 in the action %3 is not in the list of acceptable values.",
    severity: "Warning",
    resolution:
      "Choose a value from the enumeration list that the implementation can support and resubmit the request if the operation failed.",
  },
  ActionParameterValueTypeError: {
    message:
      "The value '%1' for the parameter %2 in the action %3 is not a type that the parameter can accept.",
    severity: "Warning",
    resolution:
      "Correct the value for the parameter in the request body and resubmit the request if the operation failed.",
  },
  ActionParameterValueFormatError: {
    message:
      "The value '%1' for the parameter %2 in the action %3 is not a format that the parameter can accept.",
    severity: "Warning",
    resolution:
      "Correct the value for the parameter in the request body and resubmit the request if the operation failed.",
  },
  ServiceTemporarilyUnavailable: {
    message: "The service is temporarily unavailable.  Retry in %1 seconds.",
    severity: "Critical",
    resolution: "Wait for the indicated retry duration and retry the operation.",
  },
  SessionLimitExceeded: {
    message:
      "The session establishment failed due to the number of simultaneous sessions exceeding the limit of the implementation.",
    severity: "Critical",
    resolution:
      "Reduce the number of other sessions before trying to establish the session or increase the limit of simultaneous sessions, if supported.",
  },
  ResourceInUse: {
    message: "The change to the requested resource failed because the resource is in use or in transition.",
    severity: "Warning",
    resolution: "Remove the condition and resubmit the request if the operation failed.",
  },
  ResourceMissingAtURI: {
    message: "The resource at the URI '%1' was not found.",
    severity: "Critical",
    resolution: "Place a valid resource at the URI or correct the URI and resubmit the request.",
  },
  CouldNotEstablishConnection: {
    message: "The service failed to establish a connection with the URI '%1'.",
    severity: "Critical",
    resolution:
      "Ensure that the URI contains a valid and reachable node name, protocol information, and other URI components.",
  },
  AccessDenied: {
    message: "While attempting to establish a connection to '%1', the service denied access.",
    severity: "Critical",
    resolution:
      "Attempt to ensure that the URI is correct and that the service has the appropriate credentials.",
  },
  InvalidObject: {
    message: "The object at '%1' is invalid.",
    severity: "Critical",
    resolution:
      "Either the object is malformed or the URI is not correct.  Correct the condition and resubmit the request if it failed.",
  },
  OperationFailed: {
    message:
      "An error occurred internal to the service as part of the overall request.  Partial results may have been returned.",
    severity: "Warning",
    resolution: "Resubmit the request.  If the problem persists, consider resetting the service or provider.",
  },
} as const satisfies Record<string, MessageDef>;

/** A key of {@link MESSAGES}. */
export type MessageKey = keyof typeof MESSAGES;

/** One `@Message.ExtendedInfo` entry (Message v1_3_0 properties). */
export interface RedfishMessage {
  readonly MessageId: string;
  readonly Message: string;
  readonly MessageArgs: string[];
  readonly MessageSeverity: "OK" | "Warning" | "Critical";
  readonly Resolution: string;
  readonly RelatedProperties: string[];
}

/** Builds a registry message; `related` are JSON pointers such as `#/Boot/BootSourceOverrideTarget`. */
export function message(
  key: MessageKey,
  args: readonly string[] = [],
  related: readonly string[] = [],
): RedfishMessage {
  const def: MessageDef = MESSAGES[key];
  const text = def.message.replace(/%(\d+)/g, (_m, n: string) => args[Number(n) - 1] ?? "");
  return {
    MessageId: `${BASE_REGISTRY_PREFIX}.${key}`,
    Message: text,
    MessageArgs: [...args],
    MessageSeverity: def.severity,
    Resolution: def.resolution,
    RelatedProperties: [...related],
  };
}

/** A Redfish error response body. */
export interface RedfishErrorBody {
  readonly error: { code: string; message: string; "@Message.ExtendedInfo": RedfishMessage[] };
}

/** Builds the error envelope; with several messages the code is `GeneralError`, as the spec suggests. */
export function errorBody(messages: readonly RedfishMessage[]): RedfishErrorBody {
  const first = messages[0] ?? message("GeneralError");
  const general = messages.length > 1 ? message("GeneralError") : first;
  return {
    error: { code: general.MessageId, message: general.Message, "@Message.ExtendedInfo": [...messages] },
  };
}

/** Thrown by handlers; the router turns it into a Redfish error response. */
export class RedfishHttpError extends Error {
  constructor(
    readonly status: number,
    readonly messages: readonly RedfishMessage[],
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(messages.map((m) => m.Message).join(" "));
  }
}

/** Shorthand: a {@link RedfishHttpError} with one message. */
export function httpError(
  status: number,
  key: MessageKey,
  args: readonly string[] = [],
  related: readonly string[] = [],
): RedfishHttpError {
  return new RedfishHttpError(status, [message(key, args, related)]);
}
