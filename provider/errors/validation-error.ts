import { DpuError } from "./dpu-error";

/** One problem with an input: where (dotted path) and why, as Pulumi shows check failures. */
export interface InputProblem {
  /** Dotted property path, e.g. `interfaces.0.mtu`. */
  readonly property: string;
  /** A reason the user can act on. */
  readonly reason: string;
}

/**
 * Inputs were rejected before anything was sent to a DPU.
 *
 * Deliberately not a transport error: nothing was attempted, so nothing needs cleaning up.
 */
export class ValidationError extends DpuError {
  readonly problems: readonly InputProblem[];

  constructor(resource: string, problems: readonly InputProblem[]) {
    super(
      "DPU_VALIDATION",
      `invalid ${resource} inputs: ${problems.map((p) => `${p.property || "(root)"}: ${p.reason}`).join("; ")}`,
    );
    this.name = "ValidationError";
    this.problems = problems;
  }
}
