import type { DesiredUnderlay } from "./planner";

/** A declared interface with its DPU link name resolved (what the renderers write). */
export interface RenderLink {
  readonly name: string;
  readonly mac?: string;
  readonly mtu?: number;
  readonly addresses: readonly string[];
  readonly state: "up" | "down";
  readonly vlans: readonly {
    readonly name: string;
    readonly id: number;
    readonly mtu?: number;
    readonly addresses: readonly string[];
  }[];
}

/** Input of every persistence renderer. */
export interface RenderInput {
  /** Resource id, part of every file name so resources never overwrite each other's files. */
  readonly id: string;
  readonly links: readonly RenderLink[];
  readonly routes: DesiredUnderlay["routes"];
  readonly dns?: DesiredUnderlay["dns"];
}

/** One file to write on the DPU. */
export interface RenderedFile {
  readonly path: string;
  readonly mode: number;
  readonly content: string;
}

/** Destination as the renderers write it. */
export function routeTo(dest: string): string {
  return dest === "default" ? "0.0.0.0/0" : dest === "default6" ? "::/0" : dest;
}
