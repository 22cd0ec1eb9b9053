// The kgc graph view: sigma.js (WebGL) over a graphology graph, with the run's provenance in a side panel.
// Data comes from the JSON in the page's "kgc-data" element, written by kgc/view/graph_data.py.
(function () {
  "use strict";
  const started = performance.now();
  const data = JSON.parse(document.getElementById("kgc-data").textContent);
  // Milliseconds since navigation start at each step of building the page (exposed for the benchmark).
  const timings = { scriptStart: started, parsed: performance.now() };
  const lib = window.graphologyLibrary;
  const rendering = Sigma.rendering;
  const dashedProgram = window.kgcDashedEdgeProgram;

  // Graphs up to this many nodes are laid out before the first frame (deterministic, well under a
  // second); bigger ones are drawn at once and laid out in a worker for a time budget.
  const SYNC_LAYOUT_MAX_NODES = 1500;
  // Drawing edges is fill-bound: on software WebGL (no GPU) or with many edges, the camera moves
  // smoothly only with the edges hidden while it moves (they come back when it stops).
  const HIDE_EDGES_ON_MOVE_FROM = 5000;
  const PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1",
    "#ff9da7", "#9c755f", "#17becf", "#bcbd22", "#8c564b"];
  const EDGE_PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2",
    "#7f7f7f", "#17becf", "#bcbd22"];
  const OTHER = "#b8b8b8";
  const DIM = "#e6e6e6";

  // ---------------------------------------------------------------- the graph
  // A seeded generator: the same page gives the same communities and layout every time it opens.
  function seededRandom(seed) {
    let s = seed | 0;
    return () => {
      s = (s + 0x6d2b79f5) | 0;
      let t = Math.imul(s ^ (s >>> 15), 1 | s);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }
  const graph = new graphology.MultiDirectedGraph();
  const nodeById = new Map();
  for (const n of data.nodes) {
    nodeById.set(n.id, n);
    graph.addNode(n.id, { x: 0, y: 0, label: n.name, size: 4, color: OTHER });
  }
  const relationColor = new Map(data.relation_types.map((r, i) => [r, EDGE_PALETTE[i % EDGE_PALETTE.length]]));
  const edgeById = new Map();
  for (const e of data.edges) {
    edgeById.set(e.id, e);
    graph.addDirectedEdgeWithKey(e.id, e.head, e.tail, {
      color: relationColor.get(e.relation),
      size: 1.5 + 2 * e.confidence, // thick enough to be picked: sigma picks on a half-resolution buffer
      type: e.inferred ? (e.directed ? "dashedArrow" : "dashed") : e.directed ? "arrow" : "line",
    });
  }

  timings.graphBuilt = performance.now();
  // Louvain communities, numbered by size (0 = the largest); each community starts around its own
  // point of a spiral, so the first frame is readable before ForceAtlas2 has run.
  (function placeByCommunity() {
    const found = lib.communitiesLouvain(graph, { rng: seededRandom(1) });
    const sizes = new Map();
    for (const c of Object.values(found)) sizes.set(c, (sizes.get(c) || 0) + 1);
    const order = [...sizes.keys()].sort((a, b) => sizes.get(b) - sizes.get(a) || a - b);
    const rank = new Map(order.map((c, i) => [c, i]));
    const rng = seededRandom(2);
    for (const n of data.nodes) {
      const c = rank.get(found[n.id]);
      const spread = Math.sqrt(sizes.get(found[n.id])) * 0.6;
      n.community = c;
      graph.mergeNodeAttributes(n.id, {
        x: 10 * Math.sqrt(c) * Math.cos(c * 2.4) + (rng() - 0.5) * 2 * spread,
        y: 10 * Math.sqrt(c) * Math.sin(c * 2.4) + (rng() - 0.5) * 2 * spread,
      });
    }
  })();

  timings.communities = performance.now();
  const state = {
    colorBy: "community",
    sizeBy: "degree",
    relations: new Set(data.relation_types),
    minSupport: 0,
    minConfidence: 0,
    hideInferred: false,
    highlighted: null, // entity id found by search
    selected: null, // {kind: "node"|"edge", id}
    visibleEdges: new Set(),
  };

  function edgeVisible(e) {
    return state.relations.has(e.relation) && e.support >= state.minSupport
      && e.confidence >= state.minConfidence && !(state.hideInferred && e.inferred);
  }

  function applyFilters() {
    state.visibleEdges = new Set(data.edges.filter(edgeVisible).map((e) => e.id));
    const status = document.getElementById("status");
    status.dataset.visibleEdges = String(state.visibleEdges.size);
    status.textContent = `${data.nodes.length.toLocaleString()} entities · `
      + `${state.visibleEdges.size.toLocaleString()} of ${data.edges.length.toLocaleString()} relations shown`;
    if (renderer) renderer.refresh({ skipIndexation: true });
  }

  function groupOf(n) {
    return state.colorBy === "topic" ? n.topic : n.community;
  }

  // The largest groups get a colour of their own, the rest grey.
  function applyNodeStyle() {
    const counts = new Map();
    for (const n of data.nodes) counts.set(groupOf(n), (counts.get(groupOf(n)) || 0) + 1);
    const ranked = [...counts.entries()].filter(([g]) => g !== -1).sort((a, b) => b[1] - a[1] || a[0] - b[0]);
    const colorOf = new Map(ranked.slice(0, PALETTE.length).map(([g], i) => [g, PALETTE[i]]));
    const metric = (n) => (state.sizeBy === "support" ? n.support : n.degree);
    const max = Math.max(1, ...data.nodes.map(metric));
    for (const n of data.nodes) {
      graph.mergeNodeAttributes(n.id, {
        color: colorOf.get(groupOf(n)) || OTHER,
        size: 3 + 14 * Math.sqrt(metric(n) / max),
      });
    }
    const legend = document.getElementById("node-legend");
    legend.replaceChildren();
    for (const [g, count] of ranked.slice(0, PALETTE.length)) {
      const label = state.colorBy === "topic" ? data.topics[String(g)] || `topic ${g}` : `community ${g}`;
      legend.append(el("li", {}, swatch(colorOf.get(g)), `${label} (${count})`));
    }
    if (ranked.length > PALETTE.length || counts.has(-1)) legend.append(el("li", {}, swatch(OTHER), "other"));
  }

  // ---------------------------------------------------------------- small DOM helpers
  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    Object.assign(node, props);
    for (const c of children) if (c !== null && c !== undefined) node.append(c);
    return node;
  }
  function swatch(color) {
    return el("span", { className: "swatch", style: `background:${color}` });
  }
  function nodeLink(id) {
    const n = nodeById.get(id);
    const b = el("button", { className: "link", type: "button", textContent: n ? n.name : id });
    b.addEventListener("click", () => select({ kind: "node", id }));
    return b;
  }
  function edgeLink(e, label) {
    const b = el("button", { className: "link", type: "button", textContent: label });
    b.addEventListener("click", () => select({ kind: "edge", id: e.id }));
    return b;
  }
  function evidenceList(indices) {
    return el("div", {}, ...indices.map((i) => {
      const [doc, chunk, text, triplet] = data.evidence[i].map((k) => data.strings[k]);
      return el("div", { className: "evidence" },
        el("div", { className: "doc", textContent: `${doc} · ${chunk} · ${triplet}` }),
        el("div", { textContent: text }));
    }));
  }
  const pct = (x) => x.toFixed(2);

  // ---------------------------------------------------------------- details panel
  function showNode(id) {
    const n = nodeById.get(id);
    const body = [el("h2", { textContent: n.name })];
    body.push(el("p", { className: "muted", textContent:
      `${n.degree} relations · in ${n.support} documents · community ${n.community}`
      + (n.topic >= 0 ? ` · topic ${data.topics[String(n.topic)] || n.topic}` : "") }));
    if (n.vocab) {  // the link stage's decision (kgc link): the concept of the user's vocabulary
      body.push(el("h3", { textContent: "Vocabulary" }));
      body.push(n.vocab.id
        ? el("p", { className: "vocab", textContent: `${n.vocab.match} ${n.vocab.id} “${n.vocab.label}” (score ${n.vocab.score})` })
        : el("p", { className: "muted vocab", textContent: `no link: ${n.vocab.match}` }));
    }
    body.push(el("h3", { textContent: "Aliases" }));
    body.push(n.aliases.length ? el("p", { textContent: n.aliases.join(" · ") }) : el("p", { className: "muted", textContent: "none" }));
    if (n.merges.length) {
      body.push(el("h3", { textContent: "Why merged" }));
      body.push(el("ul", {}, ...n.merges.map((m) => {
        const extra = Object.entries(m.extra || {}).map(([k, v]) => `${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`);
        return el("li", { textContent: `“${m.alias}” — ${m.reason}${m.score != null ? ` (${m.score})` : ""}${extra.length ? "; " + extra.join("; ") : ""}` });
      })));
    }
    const incident = graph.edges(id).map((k) => edgeById.get(k));
    body.push(el("h3", { textContent: `Relations (${incident.length})` }));
    const rows = incident.sort((a, b) => b.support - a.support || b.confidence - a.confidence).map((e) => {
      const other = e.head === id ? e.tail : e.head;
      const arrow = !e.directed ? "—" : e.head === id ? "→" : "←";
      return el("tr", {}, el("td", {}, edgeLink(e, `${arrow} ${e.relation}${e.inferred ? " (inferred)" : ""}`)),
        el("td", {}, nodeLink(other)), el("td", { textContent: `support ${e.support}` }),
        el("td", { textContent: `conf. ${pct(e.confidence)}` }));
    });
    body.push(el("table", {}, ...rows));
    body.push(el("h3", { textContent: `Evidence (${n.evidence.length}${n.evidence_total > n.evidence.length ? ` of ${n.evidence_total}` : ""})` }));
    body.push(n.evidence.length ? evidenceList(n.evidence) : el("p", { className: "muted", textContent: "no evidence sentence recorded" }));
    openDetails(body, "node", id);
  }

  function showEdge(id) {
    const e = edgeById.get(id);
    const body = [el("h2", {}, nodeLink(e.head), ` ${e.directed ? "→" : "—"} ${e.relation} ${e.directed ? "→" : "—"} `, nodeLink(e.tail))];
    body.push(el("p", { className: "muted", textContent:
      `support ${e.support} · confidence ${pct(e.confidence)} · decided by ${e.decided_by}${e.inferred ? " · inferred by the fusion LLM, not extracted from text" : ""}` }));
    body.push(el("h3", { textContent: "Sources" }));
    body.push(el("p", { className: "doc", textContent: e.sources.length ? e.sources.join(", ") : "none" }));
    if (e.conflict) {
      const c = e.conflict;
      body.push(el("h3", { textContent: `Conflict: decided by ${c.decided_by}` }));
      body.push(el("table", {}, ...Object.entries(c.options).map(([opt, support]) => {
        const [h, rel, t] = opt.split("|");
        const text = `${(nodeById.get(h) || { name: h }).name} ${rel} ${(nodeById.get(t) || { name: t }).name}`;
        return el("tr", { className: opt === c.chosen ? "chosen" : "" }, el("td", { textContent: (opt === c.chosen ? "✔ " : "") + text }),
          el("td", { textContent: `support ${support}` }));
      })));
      if (c.chosen === null) body.push(el("p", { textContent: "The LLM rejected every option." }));
    }
    if (e.evidence.length) {
      body.push(el("h3", { textContent: "Evidence kept for this relation" }));
      body.push(el("ul", {}, ...e.evidence.map((t) => el("li", { textContent: t }))));
    }
    if (e.pair_evidence.length) {
      body.push(el("h3", { textContent: "What the documents said about this pair" }));
      body.push(evidenceList(e.pair_evidence));
    }
    openDetails(body, "edge", id);
  }

  function openDetails(children, kind, id) {
    const panel = document.getElementById("details");
    panel.dataset.kind = kind;
    panel.dataset.id = id;
    document.getElementById("details-body").replaceChildren(...children);
    panel.hidden = false;
    if (renderer) renderer.refresh({ skipIndexation: true });
  }

  function select(sel) {
    state.selected = sel;
    if (sel.kind === "node") showNode(sel.id);
    else showEdge(sel.id);
  }

  // ---------------------------------------------------------------- search
  const searchIndex = data.nodes.map((n) => ({ id: n.id, name: n.name, keys: [n.name, ...n.aliases].map((s) => s.toLowerCase()) }));
  function search(query) {
    const q = query.trim().toLowerCase();
    if (!q) return [];
    const scored = [];
    for (const item of searchIndex) {
      let best = Infinity;
      for (const k of item.keys) {
        const at = k.indexOf(q);
        if (at >= 0) best = Math.min(best, k === q ? -1 : at === 0 ? 0 : 1);
      }
      if (best !== Infinity) scored.push([best, item]);
    }
    scored.sort((a, b) => a[0] - b[0] || a[1].name.length - b[1].name.length);
    return scored.slice(0, 12).map(([, item]) => item);
  }
  function highlight(id) {
    state.highlighted = id;
    const a = renderer.getNodeDisplayData(id);
    if (a) renderer.getCamera().animate({ x: a.x, y: a.y, ratio: Math.min(renderer.getCamera().ratio, 0.5) }, { duration: 300 });
    renderer.refresh({ skipIndexation: true });
  }
  const searchInput = document.getElementById("search");
  const results = document.getElementById("search-results");
  searchInput.addEventListener("input", () => {
    results.replaceChildren(...search(searchInput.value).map((item) => {
      const b = el("button", { type: "button", textContent: item.name });
      b.dataset.id = item.id;
      b.addEventListener("click", () => highlight(item.id));
      return el("li", {}, b);
    }));
  });
  searchInput.addEventListener("keydown", (ev) => {
    if (ev.key !== "Enter") return;
    const [first] = search(searchInput.value);
    if (first) highlight(first.id);
  });

  // ---------------------------------------------------------------- filters and options
  const relFilters = document.getElementById("relation-filters");
  for (const r of data.relation_types) {
    const box = el("input", { type: "checkbox", name: "relation", value: r, checked: true });
    box.addEventListener("change", () => {
      if (box.checked) state.relations.add(r);
      else state.relations.delete(r);
      applyFilters();
    });
    const count = data.edges.filter((e) => e.relation === r).length;
    const sample = el("span", { className: "swatch", style: `background:${relationColor.get(r)};border-radius:0;height:3px` });
    relFilters.append(el("label", { className: "row" }, box, sample, `${r} (${count})`));
  }
  document.getElementById("min-support").addEventListener("input", (ev) => {
    state.minSupport = Number(ev.target.value) || 0;
    applyFilters();
  });
  document.getElementById("min-confidence").addEventListener("input", (ev) => {
    state.minConfidence = Number(ev.target.value);
    document.getElementById("min-confidence-value").textContent = ev.target.value;
    applyFilters();
  });
  document.getElementById("hide-inferred").addEventListener("change", (ev) => {
    state.hideInferred = ev.target.checked;
    applyFilters();
  });
  document.getElementById("color-by").addEventListener("change", (ev) => {
    state.colorBy = ev.target.value;
    applyNodeStyle();
  });
  document.getElementById("size-by").addEventListener("change", (ev) => {
    state.sizeBy = ev.target.value;
    applyNodeStyle();
  });
  document.getElementById("details-close").addEventListener("click", () => {
    document.getElementById("details").hidden = true;
    state.selected = null;
    renderer.refresh({ skipIndexation: true });
  });

  // ---------------------------------------------------------------- layout
  function layoutSettings() {
    return Object.assign(lib.layoutForceAtlas2.inferSettings(graph), { adjustSizes: false });
  }
  let resolveLayout;
  const layoutDone = new Promise((resolve) => { resolveLayout = resolve; });
  let worker = null;
  if (graph.order <= SYNC_LAYOUT_MAX_NODES) {
    const iterations = Math.max(100, Math.min(600, Math.round(300000 / (graph.order + graph.size + 1))));
    lib.layoutForceAtlas2.assign(graph, { iterations, settings: layoutSettings() });
  }

  timings.layout = performance.now();

  // ---------------------------------------------------------------- rendering
  function softwareWebGL() {
    const gl = document.createElement("canvas").getContext("webgl");
    const info = gl && gl.getExtension("WEBGL_debug_renderer_info");
    const name = info ? String(gl.getParameter(info.UNMASKED_RENDERER_WEBGL)) : "";
    return /swiftshader|llvmpipe|software/i.test(name);
  }
  applyNodeStyle();
  let renderer = null;
  renderer = new Sigma(graph, document.getElementById("graph"), {
    enableEdgeEvents: true,
    renderEdgeLabels: false,
    defaultEdgeType: "line",
    edgeProgramClasses: {
      line: rendering.EdgeRectangleProgram,
      arrow: rendering.EdgeArrowProgram,
      dashed: dashedProgram(false),
      dashedArrow: rendering.createEdgeCompoundProgram([dashedProgram(true), rendering.EdgeArrowHeadProgram]),
    },
    labelRenderedSizeThreshold: 7,
    hideEdgesOnMove: data.edges.length >= HIDE_EDGES_ON_MOVE_FROM || softwareWebGL(),
    zIndex: true,
    nodeReducer(node, attrs) {
      const res = { ...attrs };
      const focus = focusNode();
      if (node === state.highlighted) {
        res.highlighted = true;
        res.zIndex = 2;
      }
      if (focus && node !== focus && !graph.areNeighbors(node, focus)) {
        res.color = DIM;
        res.label = "";
        res.zIndex = 0;
      } else if (focus) {
        res.zIndex = 1;
      }
      return res;
    },
    edgeReducer(edge, attrs) {
      if (!state.visibleEdges.has(edge)) return { ...attrs, hidden: true };
      const focus = focusNode();
      const sel = state.selected;
      if (sel && sel.kind === "edge" && sel.id === edge) return { ...attrs, size: attrs.size + 2, zIndex: 2 };
      if (focus && !graph.hasExtremity(edge, focus)) return { ...attrs, color: DIM, zIndex: 0 };
      return { ...attrs, zIndex: 1 };
    },
  });
  timings.sigma = performance.now();
  function focusNode() {
    if (state.selected && state.selected.kind === "node") return state.selected.id;
    return state.highlighted;
  }
  applyFilters();

  // Dragging a node moves it (and stops a running layout); a click without a drag opens its details.
  let dragged = null;
  let moved = false;
  renderer.on("downNode", (ev) => {
    dragged = ev.node;
    moved = false;
    if (!renderer.getCustomBBox()) renderer.setCustomBBox(renderer.getBBox());
  });
  renderer.getMouseCaptor().on("mousemovebody", (ev) => {
    if (!dragged) return;
    if (worker) stopLayout();
    moved = true;
    const pos = renderer.viewportToGraph(ev);
    graph.mergeNodeAttributes(dragged, { x: pos.x, y: pos.y });
    ev.preventSigmaDefault();
    ev.original.preventDefault();
    ev.original.stopPropagation();
  });
  renderer.getMouseCaptor().on("mouseup", () => { dragged = null; });
  renderer.on("clickNode", (ev) => { if (!moved) select({ kind: "node", id: ev.node }); });
  renderer.on("clickEdge", (ev) => select({ kind: "edge", id: ev.edge }));
  renderer.on("enterEdge", () => { document.getElementById("graph").style.cursor = "pointer"; });
  renderer.on("leaveEdge", () => { document.getElementById("graph").style.cursor = ""; });

  function stopLayout() {
    if (!worker) return;
    worker.stop();
    worker.kill();
    worker = null;
    resolveLayout();
  }
  if (graph.order > SYNC_LAYOUT_MAX_NODES) {
    worker = new lib.FA2Layout(graph, { settings: layoutSettings() });
    worker.start();
    setTimeout(stopLayout, Math.min(20000, 3000 + graph.order * 2));
  } else {
    resolveLayout();
  }

  // Time to the first painted frame, from the start of navigation (HTML and JSON parsing included).
  let firstRenderMs = null;
  requestAnimationFrame(() => requestAnimationFrame(() => { firstRenderMs = performance.now(); }));

  // For tests and for scripting the page from the browser's console.
  window.kgcView = {
    graph,
    renderer,
    layoutDone,
    timings,
    firstRenderMs: () => firstRenderMs,
    visibleEdgeCount: () => state.visibleEdges.size,
    highlighted: () => state.highlighted,
    stopLayout,
  };
})();
