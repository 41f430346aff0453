import { readFileSync } from "node:fs";
import { join } from "node:path";

/**
 * The dashboard's browser script (plain ES2017, inlined in the page), read from `assets/page.js`: `npm run build`
 * copies it into dist/ next to this module. It listens to `api/events` and re-renders only the
 * cards whose DPU changed; every value is set through `textContent`, never as HTML.
 */
export const PAGE_SCRIPT = `\n${readFileSync(join(__dirname, "assets", "page.js"), "utf8")}`;
