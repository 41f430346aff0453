export { type CheckFailure, type CheckOutcome, checkInputs } from "./check";
export { type DiffOutcome, diffInputs, type FieldChange, type FieldRules, jsonEqual } from "./diff";
export { KeyedMutex } from "./keyed-mutex";
export { pickKeys } from "./pick";
export { formatPropertyPath } from "./property-path";
export { type RetryOptions, sleep, withRetry } from "./retry";
export { containsUnknown, isUnknown, UNKNOWN, valueAt } from "./unknown";
export { type PollOptions, type ProbeResult, pollUntil } from "./wait";
