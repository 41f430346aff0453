/** The dashboard's stylesheet (inline: the lab has no internet, the page loads nothing else). */
export const PAGE_STYLE = `
:root {
  --bg: #f3f5f8; --card: #ffffff; --ink: #1c2430; --muted: #677489; --line: #e3e8ef;
  --head: #141b26; --head-ink: #e8edf5; --head-muted: #93a0b4;
  --ok: #17803d; --ok-bg: #e3f5e9; --warn: #a25b00; --warn-bg: #fff1d6;
  --bad: #b42318; --bad-bg: #fde8e6; --off: #586477; --off-bg: #eceff3; --info: #1d5fbf; --info-bg: #e6effc;
  --mono: ui-monospace, "SFMono-Regular", "DejaVu Sans Mono", Menlo, Consolas, monospace;
}
* { box-sizing: border-box; }
html, body { margin: 0; background: var(--bg); color: var(--ink);
  font: 13px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
header { position: sticky; top: 0; z-index: 2; background: var(--head); color: var(--head-ink);
  padding: 14px 24px; display: flex; flex-wrap: wrap; align-items: center; gap: 14px 28px;
  box-shadow: 0 1px 0 rgba(0,0,0,.2); }
header h1 { margin: 0; font-size: 17px; font-weight: 650; letter-spacing: .2px; }
header h1 small { color: var(--head-muted); font-weight: 400; margin-left: 8px; font-size: 13px; }
.tiles { display: flex; gap: 8px; flex-wrap: wrap; }
.tile { min-width: 78px; padding: 5px 12px; border-radius: 8px; background: rgba(255,255,255,.06);
  border: 1px solid rgba(255,255,255,.08); }
.tile b { display: block; font-size: 19px; line-height: 1.2; font-variant-numeric: tabular-nums; }
.tile span { color: var(--head-muted); font-size: 11px; text-transform: uppercase; letter-spacing: .6px; }
.tile.running b { color: #5ee08a; } .tile.booting b { color: #ffc857; }
.tile.failed b { color: #ff7a6e; } .tile.off b { color: #b4bfcf; }
.spacer { flex: 1; }
#updated { margin-left: 4px; opacity: .85; font-variant-numeric: tabular-nums; }
.live { display: flex; align-items: center; gap: 8px; color: var(--head-muted); font-size: 12px; }
.dot { width: 9px; height: 9px; border-radius: 50%; background: #6b7687; }
.live.on .dot { background: #3ddc84; box-shadow: 0 0 0 3px rgba(61,220,132,.18); }
.live.lost .dot { background: #ff7a6e; }
#filter { background: rgba(255,255,255,.08); border: 1px solid rgba(255,255,255,.14); color: var(--head-ink);
  border-radius: 6px; padding: 6px 10px; width: 180px; font: inherit; }
#filter::placeholder { color: var(--head-muted); }
main { padding: 18px 24px 32px; }
#grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(380px, 100%), 1fr)); gap: 14px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 12px 14px 12px;
  border-top: 3px solid var(--off); box-shadow: 0 1px 2px rgba(16,24,40,.04); min-width: 0; }
.card.running { border-top-color: var(--ok); } .card.booting { border-top-color: #e0a100; }
.card.failed { border-top-color: var(--bad); } .card.off { border-top-color: #a7b0bd; }
.card .top { display: flex; align-items: center; gap: 8px; margin-bottom: 10px; }
.card .name { font-size: 15px; font-weight: 650; }
.chip { font-size: 11px; color: var(--muted); border: 1px solid var(--line); border-radius: 999px; padding: 1px 8px; }
.badge { display: inline-block; font-size: 11px; font-weight: 600; border-radius: 999px; padding: 1px 9px;
  letter-spacing: .2px; white-space: nowrap; }
.b-ok { color: var(--ok); background: var(--ok-bg); } .b-warn { color: var(--warn); background: var(--warn-bg); }
.b-bad { color: var(--bad); background: var(--bad-bg); } .b-off { color: var(--off); background: var(--off-bg); }
.b-info { color: var(--info); background: var(--info-bg); }
.top .badge.status { margin-left: auto; }
.booting .badge.status { animation: pulse 1.2s ease-in-out infinite; }
@keyframes pulse { 50% { opacity: .45; } }
dl { display: grid; grid-template-columns: 92px 1fr; gap: 4px 10px; margin: 0; }
dt { color: var(--muted); }
dd { margin: 0; min-width: 0; overflow-wrap: anywhere; }
.mono { font-family: var(--mono); font-size: 12px; }
.sub { color: var(--muted); }
.err { margin-top: 8px; background: var(--bad-bg); color: var(--bad); border-radius: 6px; padding: 6px 8px;
  font-size: 12px; overflow-wrap: anywhere; }
h3 { margin: 12px 0 4px; font-size: 11px; text-transform: uppercase; letter-spacing: .7px; color: var(--muted);
  font-weight: 600; }
table { width: 100%; border-collapse: collapse; table-layout: fixed; }
th, td { text-align: left; padding: 3px 6px 3px 0; vertical-align: top; border-top: 1px solid var(--line); }
th { font-weight: 500; color: var(--muted); font-size: 11px; border-top: 0; }
.links col.n { width: 76px; } .links col.s { width: 64px; } .links col.m { width: 48px; }
.wl col.p { width: 52px; } .wl col.u { width: 64px; }
td.cmd { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.progress { display: flex; align-items: center; gap: 8px; margin-top: 2px; }
.meter { display: inline-block; width: 90px; height: 6px;
  background: var(--warn-bg); border-radius: 3px; overflow: hidden; }
.meter i { display: block; height: 100%; background: #e0a100; transition: width .4s ease; }
.empty { color: var(--muted); font-style: italic; }
.none { padding: 40px; text-align: center; color: var(--muted); }
`;
