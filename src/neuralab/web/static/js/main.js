// The playground page: the view of one training session on the server. It sends commands
// (play, pause, step, settings) and draws the frames the session streams back; every number on
// the page comes from the server's engine.

import { LossChart } from "./chart.js";
import { buildControls, dataControls, stopControls, trainingControls } from "./controls.js";
import { chartSvg, download, networkSvg, outputPng } from "./export.js";
import { decode, drawAxes, drawCurve, drawGrid, drawPoints, sharpContext } from "./heatmap.js";
import { NetworkDiagram } from "./network.js";
import { Connection } from "./socket.js";

const $ = (selector, root = document) => root.querySelector(selector);

/** Return the float32 values of base64 little-endian bytes (the model's weights, exactly). */
function floats(b64) {
  return new Float32Array(decode(b64).buffer);
}

function formatLoss(v) {
  if (v === null || v === undefined) return "-";
  if (!Number.isFinite(v)) return String(v);
  if (v !== 0 && (Math.abs(v) >= 1000 || Math.abs(v) < 0.001)) return v.toExponential(2);
  return v.toFixed(3);
}

function formatPercent(v) {
  return v === null || v === undefined ? "-" : `${(100 * v).toFixed(1)}%`;
}

function formatCount(n, digits = 0) {
  const text = String(n).padStart(digits, "0");
  return text.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** One network's view: its settings, diagram, output heat map, loss chart and diagnostics. */
class NetView {
  constructor(app, id) {
    this.app = app;
    this.id = id;
    this.section = $("#net-template").content.firstElementChild.cloneNode(true);
    this.section.dataset.net = id;
    $(".net-label", this.section).textContent = id.toUpperCase();
    this.heat = $("canvas.heat", this.section);
    this.points = $("canvas.points", this.section);
    this.chart = new LossChart($("svg.chart", this.section));
    this.run = null;
    this.selected = null;
    this.lastFrame = null;
    const send = (values) => app.send({ type: "set", net: id, values });
    this.updateTraining = buildControls($(".training-controls", this.section), trainingControls(app.meta), send);
    this.updateStop = buildControls($(".stop-controls", this.section), stopControls(app.meta, app.meta.fields), send);
    this.diagram = new NetworkDiagram($(".network", this.section), {
      toggleFeature: (name) => this.toggleFeature(name),
      selectUnit: (unit) => { this.selected = unit; this.drawOutput(); },
      setHidden: (sizes) => send({ hidden: sizes }),
      setActivation: (layer, name) => this.setActivation(layer, name),
      hover: (info) => app.hover(info, this),
    });
    const showTest = $(".show-test", this.section);
    const discretize = $(".discretize", this.section);
    showTest.addEventListener("change", () => app.setView({ hide_test: !showTest.checked }));
    discretize.addEventListener("change", () => app.setView({ discretize: discretize.checked }));
    // the CSS lays the page out by the window's width (A | B side by side, or stacked): when
    // this network's column changes width, its diagram is laid out again
    new ResizeObserver(() => this.relayout()).observe($(".network", this.section));
  }

  /** The side (px) of the output heat map, as the page's CSS sets it (smaller in A | B). */
  heatSize() {
    return this.points.parentElement.clientWidth || 288;
  }

  relayout() {
    if (!this.net || this.diagram.builtWidth === $(".network", this.section).clientWidth) return;
    this.diagram.build(this.net, this.app.meta, this.data);
    this.drawPoints();
    if (this.lastFrame) this.draw(this.lastFrame);
  }

  toggleFeature(name) {
    const features = [...this.net.config.features];
    const index = features.indexOf(name);
    if (index >= 0) features.splice(index, 1);
    else features.push(name);
    const order = this.app.state.data.features.map((f) => f.name);
    features.sort((a, b) => order.indexOf(a) - order.indexOf(b));
    this.app.send({ type: "set", net: this.id, values: { features } });
  }

  setActivation(layer, name) {
    const names = [...this.net.plan.activations];
    names[layer] = name;
    const value = names.every((n) => n === names[0]) ? names[0] : names.join(",");
    this.app.send({ type: "set", net: this.id, values: { activation: value } });
  }

  /** Show a new state of this network (settings, plan, data). */
  build(net, data, rebuilt) {
    this.net = net;
    this.data = data;
    this.updateTraining(net.config, data);
    this.updateStop(net.config, data);
    if (rebuilt || this.run !== net.run) {
      this.chart.reset();
      this.run = net.run;
      this.lastFrame = null;
      this.selected = null;
    }
    this.diagram.build(net, this.app.meta, data);
    const view = this.app.state.view;
    $(".show-test", this.section).checked = !view.hide_test;
    $(".discretize", this.section).checked = Boolean(view.discretize);
    this.drawPoints();
    if (this.lastFrame) this.draw(this.lastFrame);
  }

  drawPoints() {
    if (this.data.input_dim === 1) return;
    const size = this.heatSize();
    const context = sharpContext(this.points, size, size);
    drawPoints(context, size, this.data, { showTest: !this.app.state.view.hide_test });
    drawAxes(context, size, this.data.domain);
  }

  /** Take the rows of a frame at once (every epoch reaches the chart, drawn or not). */
  receive(frame) {
    if (frame.run !== this.run) return;
    this.chart.add(frame.rows);
  }

  draw(frame) {
    if (frame.run !== this.run) return;
    this.lastFrame = frame;
    const m = frame.metrics;
    const set = (selector, value, text) => {
      const element = $(selector, this.section);
      element.textContent = text;
      element.dataset.value = value === null || value === undefined ? "" : String(value);
    };
    set(".test-loss", m.test_loss, formatLoss(m.test_loss));
    set(".train-loss", m.train_loss, formatLoss(m.train_loss));
    set(".test-acc", m.test_acc, formatPercent(m.test_acc));
    set(".train-acc", m.train_acc, formatPercent(m.train_acc));
    $(".accuracy", this.section).hidden = m.train_acc === null;
    const other = this.app.views.find((v) => v !== this);
    this.chart.other = other && this.app.state.compare ? other.chart.rows : null;
    this.chart.draw();
    const options = { discretize: Boolean(this.app.state.view.discretize) };
    this.diagram.update(this.net, frame, options);
    this.drawOutput();
    this.drawDiagnostics(m);
    const stopped = $(".stopped", this.section);
    stopped.textContent = frame.stopped || (frame.done ? frame.done : "");
    stopped.classList.toggle("done", !frame.stopped && Boolean(frame.done));
    this.section.dataset.epoch = frame.epoch;
    this.section.dataset.steps = frame.steps;
  }

  drawOutput() {
    const frame = this.lastFrame;
    if (!frame) return;
    const label = $(".heat-label", this.section);
    const discretize = Boolean(this.app.state.view.discretize);
    const legend = $(".legend-bar", this.section);
    if (this.data.input_dim === 1) {
      this.heat.style.visibility = "hidden";
      const size = this.heatSize();
      const context = sharpContext(this.points, size, size);
      drawCurve(context, size, this.data, frame.output, { showTest: !this.app.state.view.hide_test });
      legend.hidden = true;
      label.textContent = "";
      return;
    }
    this.heat.style.visibility = "visible";
    if (this.selected && frame.neurons && frame.neurons[this.selected[0]]) {
      const unit = frame.neurons[this.selected[0]][this.selected[1]];
      drawGrid(this.heat, decode(unit.grid), frame.neuron_grid, { discretize, light: true });
      label.textContent = `unit ${this.selected[1] + 1} of layer ${this.selected[0] + 1} (a/${unit.scale.toPrecision(2)})`;
      legend.hidden = false;
      $(".lo", legend).textContent = "\u2212";
      $(".hi", legend).textContent = "+";
      return;
    }
    const output = frame.output;
    drawGrid(this.heat, decode(output.grid), output.size, {
      discretize, classes: output.classes ? decode(output.classes) : null, k: this.net.plan.num_classes, light: !output.classes,
    });
    label.textContent = "";
    legend.hidden = Boolean(output.classes);
    $(".lo", legend).textContent = output.lo_label;
    $(".hi", legend).textContent = output.hi_label;
  }

  drawDiagnostics(m) {
    const body = $("table.diagnostics tbody", this.section);
    const layers = m.grad_norm.length;
    const rows = [];
    for (let l = 0; l < layers; l++) {
      const hidden = l < layers - 1;
      const cells = [
        hidden ? `${l + 1}` : "output",
        m.grad_norm[l].toExponential(1),
        m.weight_norm[l].toFixed(2),
        hidden ? formatPercent(m.dead_fraction[l]) : "",
        hidden ? formatPercent(m.saturated_fraction[l]) : "",
        hidden ? (m.symmetric[l] ? "yes" : "no") : "",
      ];
      const warn = [false, false, false, hidden && m.dead_fraction[l] > 0, hidden && m.saturated_fraction[l] > 0, hidden && m.symmetric[l]];
      rows.push(`<tr>${cells.map((c, i) => `<td${warn[i] ? ' class="warn"' : ""}>${c}</td>`).join("")}</tr>`);
    }
    body.innerHTML = rows.join("");
  }
}

class Playground {
  constructor() {
    this.meta = null;
    this.state = null;
    this.views = [];
    this.playing = false;
    this.pending = null; // the newest frame not yet drawn
    this.hovered = null;
    this.stats = { framesReceived: 0, framesDrawn: 0, playingChanges: [], errors: [] };
    this.connection = new Connection(
      (message) => this.receive(message),
      () => {},
      (status, reason) => this.connectionStatus(status, reason),
    );
    this.wire();
  }

  send(message) {
    if (!this.connection.send(message)) this.status("not connected to the server", "error");
  }

  wire() {
    $("#play").addEventListener("click", () => this.send({ type: this.playing ? "pause" : "play" }));
    $("#step").addEventListener("click", (e) => this.send({ type: "step", unit: e.shiftKey ? "batch" : "epoch" }));
    $("#reset").addEventListener("click", () => this.send({ type: "reset" }));
    $("#regenerate").addEventListener("click", () => this.send({ type: "regenerate" }));
    $("#compare").addEventListener("change", (e) => this.send({ type: "compare", on: e.target.checked }));
    document.addEventListener("keydown", (e) => {
      if (e.code === "Space" && !["INPUT", "SELECT", "TEXTAREA", "BUTTON"].includes(document.activeElement.tagName)) {
        e.preventDefault();
        $("#play").click();
      }
      if (e.key === "Escape") this.closePopups();
    });
    $("#upload").addEventListener("change", (e) => this.upload(e.target));
    for (const [button, popup] of [["#presets-button", "#presets"], ["#share-button", "#share"], ["#export-button", "#export"]]) {
      $(button).addEventListener("click", () => this.togglePopup(popup));
    }
    for (const close of document.querySelectorAll(".popup .close")) close.addEventListener("click", () => this.closePopups());
    $("#preset-experiment").addEventListener("change", () => this.fillPresetCases());
    $("#preset-load").addEventListener("click", () => {
      this.send({ type: "preset", experiment: $("#preset-experiment").value, a: $("#preset-a").value, b: $("#preset-b").value });
      this.closePopups();
    });
    $("#share-copy").addEventListener("click", () => this.copyLink());
    const card = $("#hovercard");
    $("input", card).addEventListener("keydown", (e) => {
      if (e.key === "Enter") this.commitEdit();
      if (e.key === "Escape") this.hover(null);
    });
    $("input", card).addEventListener("blur", () => setTimeout(() => { if (this.hovered && this.hovered.edit) this.hover(null); }, 150));
  }

  connectionStatus(status, reason) {
    const element = $("#connection");
    element.className = `connection ${status}`;
    element.textContent = status === "ok" ? "connected to the training server"
      : status === "lost" ? `connection lost${reason ? ` (${reason})` : ""}: reconnecting…` : "connecting…";
    if (status === "lost") this.setPlaying(false);
  }

  receive(message) {
    switch (message.type) {
      case "hello":
        this.meta = message.meta;
        this.buildDataPanel();
        this.buildPresets();
        this.send({ type: "open", query: location.search.slice(1) });
        break;
      case "state":
        this.applyState(message);
        break;
      case "frame":
        this.stats.framesReceived++;
        for (const net of message.nets) {
          net.weights = net.weights.map(floats);
          net.biases = net.biases.map(floats);
          const view = this.views.find((v) => v.id === net.id);
          if (view) view.receive(net);
        }
        this.pending = message;
        if (!this.scheduled) {
          this.scheduled = true;
          requestAnimationFrame(() => this.drawPending());
        }
        break;
      case "playing":
        this.setPlaying(message.playing);
        break;
      case "link": // the view switches changed: the same settings, a new link
        this.state.query = message.query;
        history.replaceState(null, "", message.query ? `?${message.query}` : location.pathname);
        this.fillShare();
        break;
      case "error":
        this.stats.errors.push(message.message);
        this.status(message.message, "error");
        this.refreshControls(); // a refused value goes back to the one the network has
        break;
      case "notice":
        this.status(message.message, "notice");
        break;
      case "export":
        for (const file of message.files) {
          const content = file.base64 === undefined ? file.text : new Blob([Uint8Array.from(atob(file.base64), (c) => c.charCodeAt(0))], { type: file.type });
          download(file.name, content, file.type || "text/plain");
        }
        break;
      default:
        break;
    }
  }

  refreshControls() {
    if (!this.state) return;
    const active = document.activeElement;
    if (active && active.closest && active.closest(".controls")) active.blur();
    this.updateData(this.state.data, this.state.nets[0].config);
    this.views.forEach((view, i) => {
      view.updateTraining(this.state.nets[i].config, this.state.data);
      view.updateStop(this.state.nets[i].config, this.state.data);
    });
  }

  setPlaying(playing) {
    this.playing = playing;
    document.body.classList.toggle("playing", playing);
    this.stats.playingChanges.push({ playing, at: performance.now() });
    $("#play").setAttribute("aria-label", playing ? "pause" : "play");
  }

  status(text, kind = "") {
    const bar = $("#status");
    bar.textContent = text;
    bar.className = `status ${kind}`;
    clearTimeout(this.statusTimer);
    if (text) this.statusTimer = setTimeout(() => this.status(""), kind === "error" ? 12_000 : 8_000);
  }

  applyState(state) {
    const previous = this.state;
    this.state = state;
    document.body.classList.toggle("comparing", state.compare);
    $("#compare").checked = state.compare;
    const url = state.query ? `?${state.query}` : location.pathname;
    history.replaceState(null, "", url);
    this.updateData(state.data, state.nets[0].config);
    const nets = $("#nets");
    while (this.views.length > state.nets.length) this.views.pop().section.remove();
    state.nets.forEach((net, i) => {
      if (!this.views[i]) {
        this.views[i] = new NetView(this, net.id);
        nets.appendChild(this.views[i].section);
      }
    });
    const dataChanged = !previous || previous.data.version !== state.data.version;
    state.nets.forEach((net, i) => this.views[i].build(net, state.data, dataChanged));
    if (state.notice) this.status(state.notice, "notice");
    this.fillShare();
    this.fillExport();
  }

  drawPending() {
    this.scheduled = false;
    const frame = this.pending;
    if (!frame) return;
    this.pending = null;
    for (const net of frame.nets) {
      const view = this.views.find((v) => v.id === net.id);
      if (view) view.draw(net);
    }
    const first = frame.nets[0];
    const epoch = $("#epoch");
    epoch.textContent = formatCount(Math.max(...frame.nets.map((n) => n.epoch)), 6);
    epoch.dataset.value = String(first.epoch);
    $("#iterations").textContent = formatCount(first.steps);
    $("#examples").textContent = formatCount(first.examples);
    if (frame.nets.length === 2) {
      const [a, b] = frame.nets.map((n) => formatLoss(n.metrics.test_loss));
      $("#compare-losses").textContent = `A ${a} \u00b7 B ${b}`;
    }
    if (this.hovered && !this.hovered.edit) this.showHover();
    this.stats.framesDrawn++;
    this.stats.lastFrameAt = performance.now();
    if (this.stats.framesDrawn === 1) this.stats.firstFrameAt = this.stats.lastFrameAt; // ms after navigation
    this.send({ type: "drawn", frame: frame.frame });
  }

  // -- data panel -----------------------------------------------------------------------------
  buildDataPanel() {
    const box = $("#datasets");
    box.textContent = "";
    for (const spec of this.meta.datasets) {
      const button = document.createElement("button");
      button.className = "dataset";
      button.dataset.name = spec.name;
      button.title = `${spec.name}: ${spec.description} (${spec.task})`;
      const canvas = document.createElement("canvas");
      button.appendChild(canvas);
      const caption = document.createElement("span");
      caption.textContent = spec.name;
      button.appendChild(caption);
      button.addEventListener("click", () => this.send({ type: "set", net: "a", values: { data: spec.name } }));
      box.appendChild(button);
      requestAnimationFrame(() => this.drawThumbnail(canvas, spec));
    }
    this.updateDataControls = buildControls($("#data-controls"), dataControls(this.meta),
      (values) => this.send({ type: "set", net: "a", values }));
  }

  drawThumbnail(canvas, spec) {
    const context = sharpContext(canvas, 56, 56);
    context.fillStyle = "#fff";
    context.fillRect(0, 0, 56, 56);
    const thumbnail = spec.thumbnail;
    if (spec.input_dim === 1) {
      drawCurve(context, 56, { ...thumbnail, task: spec.task, test: [] }, null, { showTest: false });
      return;
    }
    drawPoints(context, 56, { ...thumbnail, task: spec.task, test: [] }, { radius: 1.4, rim: false });
  }

  updateData(data, config) {
    for (const button of document.querySelectorAll(".dataset")) {
      button.classList.toggle("selected", button.dataset.name === config.data);
    }
    this.updateDataControls(config, data);
  }

  upload(input) {
    const file = input.files[0];
    input.value = "";
    if (!file) return;
    if (file.size > this.meta.limits.max_upload_bytes) {
      this.status(`${file.name}: ${file.size.toLocaleString()} bytes; an uploaded CSV may have at most ${this.meta.limits.max_upload_bytes.toLocaleString()}`, "error");
      return;
    }
    file.text().then((text) => this.send({ type: "upload", name: file.name, text }));
  }

  setView(change) {
    this.state.view = { ...this.state.view, ...change };
    this.send({ type: "view", discretize: Boolean(this.state.view.discretize), hide_test: Boolean(this.state.view.hide_test) });
    for (const view of this.views) {
      view.drawPoints();
      view.drawOutput();
      if (view.lastFrame) view.draw(view.lastFrame);
    }
  }

  // -- hover card: read a weight or bias live; click to edit ---------------------------------
  hover(info, view) {
    const card = $("#hovercard");
    if (!info) {
      if (this.hovered && this.hovered.edit && document.activeElement === $("input", card)) return;
      this.hovered = null;
      card.hidden = true;
      return;
    }
    if (this.hovered && this.hovered.edit && !info.edit) return;
    this.hovered = { ...info, view };
    this.showHover();
  }

  showHover() {
    const card = $("#hovercard");
    const info = this.hovered;
    card.hidden = false;
    card.style.left = `${Math.min(window.innerWidth - 180, info.x + 16)}px`;
    card.style.top = `${info.y - 10}px`;
    $(".what", card).textContent = info.what;
    const value = info.read();
    const input = $("input", card);
    $(".value", card).hidden = info.edit;
    input.hidden = !info.edit;
    $(".value", card).textContent = value === undefined ? "-" : value.toPrecision(4);
    if (info.edit && document.activeElement !== input) {
      input.value = value.toPrecision(4);
      input.focus();
      input.select();
    }
  }

  commitEdit() {
    const info = this.hovered;
    const value = Number($("#hovercard input").value);
    if (!info || !Number.isFinite(value)) return;
    const net = info.view.id;
    if (info.kind === "weight") {
      this.send({ type: "weight", net, layer: info.layer, unit: info.unit, source: info.source, value });
    } else {
      this.send({ type: "bias", net, layer: info.layer, unit: info.unit, value });
    }
    this.hovered = null;
    $("#hovercard").hidden = true;
  }

  // -- popups ---------------------------------------------------------------------------------
  togglePopup(selector) {
    const popup = $(selector);
    const open = popup.hidden;
    this.closePopups();
    popup.hidden = !open;
  }

  closePopups() {
    for (const popup of document.querySelectorAll(".popup")) popup.hidden = true;
  }

  buildPresets() {
    const select = $("#preset-experiment");
    select.textContent = "";
    for (const preset of this.meta.presets) {
      const option = document.createElement("option");
      option.value = preset.name;
      option.textContent = `${preset.name}: ${preset.title}`;
      select.appendChild(option);
    }
    this.fillPresetCases();
  }

  fillPresetCases() {
    const preset = this.meta.presets.find((p) => p.name === $("#preset-experiment").value);
    if (!preset) return;
    $("#preset-claim").textContent = `Course's claim: ${preset.claim}.`;
    for (const [id, chosen] of [["#preset-a", preset.a], ["#preset-b", preset.b]]) {
      const select = $(id);
      select.textContent = "";
      for (const label of preset.cases) {
        const option = document.createElement("option");
        option.value = label;
        option.textContent = label;
        select.appendChild(option);
      }
      select.value = chosen;
    }
  }

  fillShare() {
    $("#share-link").value = location.href;
    $("#share-cli").textContent = this.state.nets.map((n) => (this.state.compare ? `# ${n.id.toUpperCase()}\n` : "") + n.command).join("\n");
  }

  copyLink() {
    const input = $("#share-link");
    input.select();
    const done = () => this.status("link copied", "notice");
    if (navigator.clipboard) navigator.clipboard.writeText(input.value).then(done, () => document.execCommand("copy"));
    else { document.execCommand("copy"); done(); }
  }

  fillExport() {
    const list = $("#export-list");
    list.textContent = "";
    const add = (title, detail, buttons) => {
      const what = document.createElement("div");
      what.className = "what";
      what.innerHTML = `${title}<small>${detail}</small>`;
      list.appendChild(what);
      const cells = [document.createElement("div"), document.createElement("div")];
      buttons.forEach((b, i) => {
        const button = document.createElement("button");
        button.className = "text";
        button.textContent = b.label;
        button.dataset.export = b.id;
        button.addEventListener("click", b.run);
        cells[i].appendChild(button);
      });
      list.append(...cells);
    };
    for (const view of this.views) {
      const suffix = this.state.compare ? ` (${view.id.toUpperCase()})` : "";
      const tag = this.state.compare ? `-${view.id}` : "";
      add(`Settings${suffix}`, "config.yaml for neuralab playground --config", [
        { label: "config.yaml", id: `config-${view.id}`, run: () => this.send({ type: "export", net: view.id, what: "config" }) },
      ]);
      add(`Model${suffix}`, "PyTorch code and the current weights (JSON or safetensors)", [
        { label: "model.py + weights.json", id: `model-${view.id}`, run: () => this.send({ type: "export", net: view.id, what: "model" }) },
        { label: "safetensors", id: `safetensors-${view.id}`, run: () => this.send({ type: "export", net: view.id, what: "safetensors" }) },
      ]);
      add(`Figures${suffix}`, "output heat map (PNG), network and loss curves (SVG)", [
        { label: "output.png", id: `png-${view.id}`, run: () => outputPng(view, view.data, view.lastFrame && view.lastFrame.output, !this.state.view.hide_test).then((blob) => download(`output${tag}.png`, blob)) },
        { label: "SVG", id: `svg-${view.id}`, run: () => {
          download(`network${tag}.svg`, networkSvg($(".network", view.section)), "image/svg+xml");
          download(`loss${tag}.svg`, chartSvg($("svg.chart", view.section), `loss${suffix}`), "image/svg+xml");
        } },
      ]);
    }
  }
}

const playground = new Playground();
window.neuralab = playground; // for the browser tests and the benchmark
