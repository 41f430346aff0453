// The lab dashboard's browser script (see simulator/lab/dashboard/page-script.ts).
(() => {
  "use strict";
  const grid = document.getElementById("grid");
  const live = document.getElementById("live");
  const liveText = document.getElementById("live-text");
  const updated = document.getElementById("updated");
  const filter = document.getElementById("filter");
  const cards = new Map();
  let offsetMs = 0;
  const STATUS_KIND = { running: "ok", booting: "warn", failed: "bad", off: "off" };
  const DMTF_STEPS = [
    "PrimaryProcessorInitializationStarted",
    "MemoryInitializationStarted",
    "PCIResourceConfigStarted",
    "SystemHardwareInitializationComplete",
    "OSBootStarted",
    "OSRunning",
  ];
  const OEM_STEPS = ["BootRom", "BL2", "BL31", "UEFI", "OsStarting", "OsIsRunning"];

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function badge(text, kind, field) {
    const b = el("span", `badge b-${kind}`, text);
    if (field) b.setAttribute("data-field", field);
    return b;
  }
  function row(dl, label, content, field) {
    dl.appendChild(el("dt", "", label));
    const dd = el("dd");
    if (field) dd.setAttribute("data-field", field);
    if (typeof content === "string") dd.textContent = content;
    else for (let i = 0; i < content.length; i++) dd.appendChild(content[i]);
    dl.appendChild(dd);
  }
  function powerKind(p) {
    return p === "On" ? "ok" : p === "Off" ? "off" : "warn";
  }
  function linkKind(s) {
    return s === "UP" ? "ok" : s === "DOWN" ? "off" : s === "LOWERLAYERDOWN" ? "bad" : "info";
  }
  function progressText(bp) {
    return bp.lastState === "OEM" && bp.oemLastState ? `OEM · ${bp.oemLastState}` : bp.lastState;
  }
  function bootRow(d) {
    const bp = d.bootProgress;
    const parts = [el("span", "", progressText(bp))];
    const steps = bp.lastState === "OEM" ? OEM_STEPS : DMTF_STEPS;
    const i = steps.indexOf(bp.lastState === "OEM" ? bp.oemLastState : bp.lastState);
    if (d.status === "booting" && i >= 0) {
      const line = el("div", "progress");
      const meter = el("span", "meter");
      const fill = el("i");
      fill.style.width = `${Math.round(((i + 1) * 100) / steps.length)}%`;
      meter.appendChild(fill);
      line.appendChild(meter);
      line.appendChild(el("span", "sub", `step ${i + 1} of ${steps.length}`));
      parts.push(line);
    }
    return parts;
  }
  function basename(u) {
    try {
      const p = new URL(u).pathname;
      return p.slice(p.lastIndexOf("/") + 1) || u;
    } catch (_e) {
      return u;
    }
  }
  function uptime(ms) {
    const s = Math.max(0, Math.floor(ms / 1000));
    if (s < 60) return `${s}s`;
    const m = Math.floor(s / 60);
    if (m < 60) return `${m}m ${s % 60}s`;
    const h = Math.floor(m / 60);
    if (h < 24) return `${h}h ${m % 60}m`;
    return `${Math.floor(h / 24)}d ${h % 24}h`;
  }
  function table(cls, cols, heads) {
    const t = el("table", cls);
    const cg = el("colgroup");
    for (let i = 0; i < cols.length; i++) cg.appendChild(el("col", cols[i]));
    t.appendChild(cg);
    const tr = el("tr");
    for (let j = 0; j < heads.length; j++) tr.appendChild(el("th", "", heads[j]));
    const th = el("thead");
    th.appendChild(tr);
    t.appendChild(th);
    const tb = el("tbody");
    t.appendChild(tb);
    return { table: t, body: tb };
  }

  function underlay(d) {
    if (!d.osRunning) return el("div", "empty", "not observed: the OS is not running");
    if (d.links.length === 0) return el("div", "empty", "no data links");
    const t = table("links", ["n", "s", "m", ""], ["link", "state", "MTU", "addresses"]);
    t.table.setAttribute("data-field", "underlay");
    d.links.forEach((l) => {
      const tr = el("tr");
      tr.setAttribute("data-link", l.name);
      const n = el("td", "mono", l.name);
      if (l.kind === "vlan")
        n.appendChild(el("div", "sub", `vlan ${l.vlanId}${l.parent ? ` on ${l.parent}` : ""}`));
      else if (l.kind && l.kind !== "veth") n.appendChild(el("div", "sub", l.kind));
      tr.appendChild(n);
      const s = el("td");
      s.appendChild(badge(l.operstate, linkKind(l.operstate)));
      tr.appendChild(s);
      tr.appendChild(el("td", "mono", l.mtu));
      const a = el("td", "mono");
      let linkLocal = 0;
      l.addresses.forEach((x) => {
        if (x.family === "inet6" && x.scope === "link") {
          linkLocal++;
          return;
        }
        a.appendChild(el("div", "", x.cidr));
      });
      if (linkLocal > 0 || a.childNodes.length === 0) {
        a.appendChild(
          el("div", "sub", a.childNodes.length === 0 && linkLocal === 0 ? "—" : `+ ${linkLocal} link-local`),
        );
      }
      tr.appendChild(a);
      t.body.appendChild(tr);
    });
    return t.table;
  }

  function workloads(d) {
    if (!d.osRunning) return el("div", "empty", "not observed: the OS is not running");
    if (d.workloads.length === 0) {
      const e = el("div", "empty", "none");
      e.setAttribute("data-field", "workloads");
      return e;
    }
    const t = table("wl", ["p", "", "u"], ["pid", "command", "uptime"]);
    t.table.setAttribute("data-field", "workloads");
    d.workloads.forEach((w) => {
      const tr = el("tr");
      tr.appendChild(el("td", "mono", w.pid));
      const c = el("td", "mono cmd", w.command);
      c.title = w.command;
      tr.appendChild(c);
      const u = el("td", "mono");
      u.setAttribute("data-started", String(w.startedAt));
      u.textContent = uptime(Date.now() - offsetMs - w.startedAt);
      tr.appendChild(u);
      t.body.appendChild(tr);
    });
    return t.table;
  }

  function renderCard(d) {
    const card = el("article", `card ${d.status}`);
    card.setAttribute("data-dpu", d.name);
    card.setAttribute("data-status", d.status);
    const top = el("div", "top");
    top.appendChild(el("span", "name", d.name));
    top.appendChild(el("span", "chip", d.profile));
    const st = badge(d.status, STATUS_KIND[d.status] || "off", "status");
    st.className += " status";
    top.appendChild(st);
    card.appendChild(top);

    const dl = el("dl");
    row(dl, "Power", [badge(d.power, powerKind(d.power), "power")]);
    row(dl, "Boot", bootRow(d), "boot");
    if (d.image) {
      const img = el("span", "mono", d.image.label);
      img.setAttribute("data-field", "image");
      row(dl, "Image", [
        img,
        el("span", "sub mono", `  ${d.image.kind} · sha256:${d.image.sha256.slice(0, 12)}`),
      ]);
    } else {
      row(dl, "Image", [el("span", "empty", "blank disk")]);
    }
    let ov = d.override.enabled === "Disabled" ? "none" : `${d.override.enabled} → ${d.override.target}`;
    if (d.override.httpBootUri && d.override.enabled !== "Disabled")
      ov += ` (${basename(d.override.httpBootUri)})`;
    row(dl, "Override", ov, "override");
    row(
      dl,
      "Media",
      d.media.inserted
        ? [badge("inserted", "info"), el("span", "mono", ` ${basename(d.media.image || "")}`)]
        : "none",
      "media",
    );
    const sshKind = d.ssh === "up" ? "ok" : d.ssh === "down" ? "bad" : "off";
    row(dl, "SSH", [badge(d.ssh, sshKind, "ssh"), el("span", "mono", `  ${d.mgmtIp}`)]);
    row(dl, "Hostname", d.hostname ? [el("span", "mono", d.hostname)] : "—", "hostname");
    row(
      dl,
      "Redfish",
      d.sessions +
        (d.sessions === 1 ? " session · " : " sessions · ") +
        d.requests +
        (d.requests === 1 ? " request" : " requests"),
      "redfish",
    );
    card.appendChild(dl);
    if (d.lastBootError) {
      const err = el("div", "err", `Last boot error: ${d.lastBootError}`);
      err.setAttribute("data-field", "boot-error");
      card.appendChild(err);
    }
    if (d.observeError) card.appendChild(el("div", "err", `Observation: ${d.observeError}`));
    card.appendChild(el("h3", "", "Underlay"));
    card.appendChild(underlay(d));
    card.appendChild(el("h3", "", "Workloads"));
    card.appendChild(workloads(d));
    return card;
  }

  function applyFilter() {
    const q = filter.value.trim().toLowerCase();
    cards.forEach((c) => {
      c.el.style.display = !q || c.text.indexOf(q) >= 0 ? "" : "none";
    });
  }

  function render(snap) {
    offsetMs = Date.now() - snap.generatedAt;
    const s = snap.summary;
    ["total", "running", "booting", "failed", "off"].forEach((k) => {
      document.getElementById(`sum-${k}`).textContent = String(s[k]);
    });
    updated.textContent = `updated ${new Date(snap.generatedAt).toLocaleTimeString()}`;
    const seen = new Set();
    if (snap.dpus.length === 0) grid.replaceChildren(el("div", "none", "No DPUs in this lab."));
    else if (cards.size === 0) grid.replaceChildren();
    snap.dpus.forEach((d, i) => {
      seen.add(d.name);
      const key = JSON.stringify(d);
      let c = cards.get(d.name);
      if (!c || c.key !== key) {
        const fresh = renderCard(d);
        if (c) grid.replaceChild(fresh, c.el);
        const text = [d.name, d.profile, d.status, d.hostname || "", d.mgmtIp, d.image ? d.image.label : ""]
          .join(" ")
          .toLowerCase();
        c = { el: fresh, key: key, text: text };
        cards.set(d.name, c);
      }
      if (grid.children[i] !== c.el) grid.insertBefore(c.el, grid.children[i] || null);
    });
    cards.forEach((c, name) => {
      if (!seen.has(name)) {
        c.el.remove();
        cards.delete(name);
      }
    });
    applyFilter();
  }

  function setLive(state, text) {
    live.className = `live ${state}`;
    liveText.textContent = text;
  }

  setInterval(() => {
    const now = Date.now() - offsetMs;
    document.querySelectorAll("[data-started]").forEach((e) => {
      e.textContent = uptime(now - Number(e.getAttribute("data-started")));
    });
  }, 1000);
  filter.addEventListener("input", applyFilter);

  const es = new EventSource("api/events");
  es.onopen = () => {
    setLive("on", "live");
  };
  es.onerror = () => {
    setLive("lost", "reconnecting…");
  };
  es.onmessage = (e) => {
    setLive("on", "live");
    render(JSON.parse(e.data));
  };
  es.addEventListener("observe-error", (e) => {
    setLive("lost", `observation failed: ${JSON.parse(e.data).error}`);
  });
})();
