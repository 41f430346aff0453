import { PAGE_SCRIPT } from "./page-script";
import { PAGE_STYLE } from "./page-style";

/**
 * The dashboard page: one self-contained HTML document (inline style and script, no external assets) that
 * shows the fleet live from `api/events`.
 */
export function dashboardPage(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>DPU lab · fleet</title>
<style>${PAGE_STYLE}</style>
</head>
<body>
<header>
  <h1>DPU lab <small>fleet dashboard</small></h1>
  <div class="tiles">
    <div class="tile"><b id="sum-total">–</b><span>DPUs</span></div>
    <div class="tile running"><b id="sum-running">–</b><span>running</span></div>
    <div class="tile booting"><b id="sum-booting">–</b><span>booting</span></div>
    <div class="tile failed"><b id="sum-failed">–</b><span>failed</span></div>
    <div class="tile off"><b id="sum-off">–</b><span>off</span></div>
  </div>
  <div class="spacer"></div>
  <input id="filter" type="search" placeholder="Filter DPUs…" aria-label="Filter DPUs">
  <div id="live" class="live"><span class="dot"></span><span id="live-text">connecting…</span>
    <span id="updated"></span></div>
</header>
<main><div id="grid"><div class="none">Connecting to the lab…</div></div></main>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
}
