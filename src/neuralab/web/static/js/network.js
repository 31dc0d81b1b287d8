// The network diagram of one network: feature units, hidden units with their heat maps, output
// units, and a link per weight drawn with colour (sign) and width (|w|). Hover a link or a bias
// to read it (the value follows training), click to edit it.

import { colourOf, decode, drawGrid, drawUnitCurve } from "./heatmap.js";

const SVG = "http://www.w3.org/2000/svg";
const FEATURE_X = 98; // centre of the feature column
const HIT_LINKS = 1200; // above this many links only the drawn paths take the mouse
const LAYER_CONTROL = 84; // px: the widest a layer's +/- and activation menu gets

/**
 * Return the side (px) of a unit's tile in a column of ``count`` units: columns taller than
 * ``column`` px shrink their tiles, never below 7 px nor above ``largest`` (the page's CSS sets
 * both: compact in A | B).
 */
function unitSize(count, column, largest) {
  const size = Math.floor(column / Math.max(1, count) / 1.55);
  return Math.max(7, Math.min(largest, size));
}

/** Return a numeric CSS custom property of ``element``, or ``fallback`` when it is not set. */
function cssNumber(element, name, fallback) {
  const value = parseFloat(getComputedStyle(element).getPropertyValue(name));
  return Number.isFinite(value) ? value : fallback;
}

function linkWidth(w) {
  return Math.min(10, 1 + (Math.abs(w) / 5) * 9);
}

export class NetworkDiagram {
  /**
   * @param root the .network column of one network
   * @param hooks {toggleFeature(name), selectUnit(layer, unit|null), editWeight(layer, unit, source, value),
   *               editBias(layer, unit, value), setHidden(sizes), setActivation(layer, name), hover}
   */
  constructor(root, hooks) {
    this.root = root;
    this.hooks = hooks;
    this.svg = root.querySelector("svg.links");
    this.nodes = root.querySelector(".nodes");
    this.layerControls = root.querySelector(".layer-controls");
    root.querySelector(".add-layer").addEventListener("click", () => this.changeLayers(+1));
    root.querySelector(".remove-layer").addEventListener("click", () => this.changeLayers(-1));
    this.plan = null;
    this.selected = null; // [layer, unit] of the unit shown in the output panel
    this.links = []; // per layer: array of {path, hit} in row-major (unit, source) order
    this.biases = []; // per layer (hidden layers, then output): array of elements
    this.canvases = []; // per hidden layer: array of canvases
    this.outputCanvases = [];
    this.weights = null;
    this.biasValues = null;
  }

  /** Rebuild the diagram for a new plan (features, layer sizes, activations). */
  build(net, meta, data) {
    this.plan = net.plan;
    this.config = net.config;
    this.meta = meta;
    this.data = data;
    this.nodes.textContent = "";
    this.svg.textContent = "";
    this.layerControls.textContent = "";
    this.builtWidth = this.root.clientWidth;
    const width = Math.max(420, this.root.clientWidth - 8);
    const hidden = this.plan.hidden;
    const outputs = this.plan.out_features;
    const featureNames = data.features.map((f) => f.name);
    const columns = [featureNames.length, ...hidden, outputs];
    const column = cssNumber(this.root, "--diagram-height", 470);
    const largest = cssNumber(this.root, "--unit-max", 30);
    const sizes = columns.map((count) => unitSize(count, column, largest));
    const firstX = FEATURE_X + 96;
    const lastX = width - 44;
    const xs = [FEATURE_X];
    hidden.forEach((_, i) => xs.push(firstX + ((lastX - 60 - firstX) * (i + 0.5)) / Math.max(1, hidden.length)));
    xs.push(lastX);
    if (hidden.length === 0) xs[1] = (FEATURE_X + lastX) / 2 + 40;
    const spacing = sizes.map((s) => Math.round(s * 1.55 + 4));
    const heights = columns.map((n, c) => n * spacing[c]);
    const height = Math.max(...heights) + 10;
    this.nodes.style.height = `${height}px`;
    this.svg.setAttribute("width", width);
    this.svg.setAttribute("height", height);
    this.centres = columns.map((n, c) => {
      const top = (height - heights[c]) / 2;
      return Array.from({ length: n }, (_, i) => [xs[c], top + spacing[c] * (i + 0.5)]);
    });
    this.sizes = sizes;

    // feature units: every usable feature; the active ones feed the network
    this.featureNodes = data.features.map((feature, i) => {
      const [cx, cy] = this.centres[0][i];
      const node = this.unit(cx, cy, sizes[0], "feature");
      node.classList.toggle("active", this.plan.features.includes(feature.name));
      node.title = `${feature.label}: click to ${this.plan.features.includes(feature.name) ? "remove" : "add"}`;
      node.dataset.feature = feature.name;
      node.addEventListener("click", () => this.hooks.toggleFeature(feature.name));
      const label = document.createElement("div");
      label.className = "node-label";
      label.style.left = `${cx - sizes[0] / 2}px`;
      label.style.top = `${cy}px`;
      label.textContent = feature.label;
      this.nodes.appendChild(label);
      const canvas = node.querySelector("canvas");
      if (data.input_dim === 1) drawUnitCurve(canvas, feature.curve);
      else drawGrid(canvas, decode(feature.grid), data.neuron_grid);
      return node;
    });

    // hidden and output units
    this.canvases = [];
    this.outputCanvases = [];
    this.biases = [];
    for (let c = 1; c < columns.length; c++) {
      const isOutput = c === columns.length - 1;
      const layerCanvases = [];
      const layerBiases = [];
      for (let u = 0; u < columns[c]; u++) {
        const [cx, cy] = this.centres[c][u];
        const node = this.unit(cx, cy, sizes[c], isOutput ? "output-unit" : "hidden");
        node.dataset.layer = c - 1;
        node.dataset.unit = u;
        node.addEventListener("click", () => this.select(isOutput ? null : [c - 1, u]));
        layerCanvases.push(node.querySelector("canvas"));
        const bias = document.createElement("div");
        bias.className = "bias";
        bias.style.left = `${cx - sizes[c] / 2 - 9}px`;
        bias.style.top = `${cy + sizes[c] / 2 - 7}px`;
        bias.addEventListener("mouseenter", (e) => this.hoverBias(c - 1, u, e));
        bias.addEventListener("mouseleave", () => this.hooks.hover(null));
        bias.addEventListener("click", (e) => this.hoverBias(c - 1, u, e, true));
        this.nodes.appendChild(bias);
        layerBiases.push(bias);
      }
      if (isOutput) this.outputCanvases = layerCanvases;
      else this.canvases.push(layerCanvases);
      this.biases.push(layerBiases);
    }

    // links: W_l[unit, source] from column l to column l + 1
    const active = this.plan.features.map((name) => featureNames.indexOf(name));
    this.links = [];
    let total = 0;
    for (let l = 0; l < columns.length - 1; l++) total += (l === 0 ? active.length : columns[l]) * columns[l + 1];
    const hit = total <= HIT_LINKS;
    for (let l = 0; l < columns.length - 1; l++) {
      const sources = l === 0 ? active : Array.from({ length: columns[l] }, (_, i) => i);
      const layerLinks = [];
      for (let u = 0; u < columns[l + 1]; u++) {
        for (let s = 0; s < sources.length; s++) {
          const [x0, y0] = this.centres[l][sources[s]];
          const [x1, y1] = this.centres[l + 1][u];
          const offset = ((s - (sources.length - 1) / 2) / Math.max(1, sources.length)) * Math.min(12, sizes[l + 1] * 0.5);
          const startX = x0 + sizes[l] / 2 + 1;
          const endX = x1 - sizes[l + 1] / 2 - 1;
          const middle = (startX + endX) / 2;
          const d = `M${startX},${y0} C${middle},${y0} ${middle},${y1 + offset} ${endX},${y1 + offset}`;
          const path = document.createElementNS(SVG, "path");
          path.setAttribute("class", "link");
          path.setAttribute("d", d);
          this.svg.appendChild(path);
          const target = hit ? document.createElementNS(SVG, "path") : path;
          if (hit) {
            target.setAttribute("class", "hit");
            target.setAttribute("d", d);
            this.svg.appendChild(target);
          } else {
            path.style.pointerEvents = "stroke";
          }
          target.addEventListener("mouseenter", (e) => this.hoverWeight(l, u, s, e, path));
          target.addEventListener("mouseleave", () => { path.classList.remove("hovered"); this.hooks.hover(null); });
          target.addEventListener("click", (e) => this.hoverWeight(l, u, s, e, path, true));
          layerLinks.push(path);
        }
      }
      this.links.push(layerLinks);
    }

    // per-layer controls: units +/-, activation; narrower when the layers stand close together
    const controlWidth = Math.min(LAYER_CONTROL, (hidden.length > 1 ? xs[2] - xs[1] : LAYER_CONTROL) - 6);
    hidden.forEach((count, l) => {
      const box = document.createElement("div");
      box.className = "layer-control";
      box.style.left = `${xs[l + 1]}px`;
      box.style.width = `${controlWidth}px`;
      const plusMinus = document.createElement("div");
      plusMinus.className = "plusminus";
      for (const [text, delta, title] of [["+", 1, "Add a unit"], ["\u2212", -1, "Remove a unit"]]) {
        const button = document.createElement("button");
        button.className = "icon small";
        button.textContent = text;
        button.title = title;
        button.addEventListener("click", () => this.changeUnits(l, delta));
        plusMinus.appendChild(button);
      }
      box.appendChild(plusMinus);
      const label = document.createElement("div");
      label.textContent = `${count} unit${count === 1 ? "" : "s"}`;
      box.appendChild(label);
      const select = document.createElement("select");
      select.title = "Activation of this layer";
      select.className = "layer-activation";
      for (const name of meta.hidden_activations) {
        const option = document.createElement("option");
        option.value = name;
        option.textContent = name;
        select.appendChild(option);
      }
      select.value = this.plan.activations[l];
      select.addEventListener("change", () => this.hooks.setActivation(l, select.value));
      box.appendChild(select);
      this.layerControls.appendChild(box);
    });
    const title = this.root.querySelector(".layers-title");
    title.textContent = `${hidden.length} hidden layer${hidden.length === 1 ? "" : "s"}`;
    const outputLabel = document.createElement("div");
    outputLabel.className = "output-node-label";
    const [ox, oy] = this.centres[columns.length - 1][0];
    outputLabel.style.left = `${ox}px`;
    outputLabel.style.top = `${oy - sizes[columns.length - 1] / 2 - 16}px`;
    outputLabel.textContent = this.plan.output;
    this.nodes.appendChild(outputLabel);
    if (this.selected && !(this.selected[0] < hidden.length && this.selected[1] < hidden[this.selected[0]])) {
      this.selected = null;
    }
    this.markSelected();
  }

  unit(cx, cy, size, kind) {
    const node = document.createElement("div");
    node.className = `node ${kind}`;
    node.style.left = `${cx - size / 2}px`;
    node.style.top = `${cy - size / 2}px`;
    node.style.width = `${size}px`;
    node.style.height = `${size}px`;
    const canvas = document.createElement("canvas");
    canvas.width = 1;
    canvas.height = 1;
    node.appendChild(canvas);
    this.nodes.appendChild(node);
    return node;
  }

  changeLayers(delta) {
    const hidden = [...this.plan.hidden];
    if (delta > 0) hidden.push(hidden.length ? hidden[hidden.length - 1] : 4);
    else hidden.pop();
    this.hooks.setHidden(hidden);
  }

  changeUnits(layer, delta) {
    const hidden = [...this.plan.hidden];
    hidden[layer] = Math.max(1, hidden[layer] + delta);
    this.hooks.setHidden(hidden);
  }

  select(unit) {
    const same = unit && this.selected && unit[0] === this.selected[0] && unit[1] === this.selected[1];
    this.selected = same ? null : unit;
    this.markSelected();
    this.hooks.selectUnit(this.selected);
  }

  markSelected() {
    for (const node of this.nodes.querySelectorAll(".node.hidden")) {
      const on = this.selected && +node.dataset.layer === this.selected[0] && +node.dataset.unit === this.selected[1];
      node.classList.toggle("selected", Boolean(on));
    }
  }

  hoverWeight(layer, unit, source, event, path, edit = false) {
    if (!this.weights) return;
    path.classList.add("hovered");
    const inputs = layer === 0 ? this.plan.features.length : this.plan.hidden[layer - 1];
    const feature = this.data.features.find((f) => f.name === this.plan.features[source]);
    const from = layer === 0 ? (feature ? feature.label : this.plan.features[source]) : `unit ${source + 1} of layer ${layer}`;
    const to = layer === this.plan.hidden.length ? `output ${unit + 1}` : `unit ${unit + 1} of layer ${layer + 1}`;
    this.hooks.hover({
      kind: "weight", layer, unit, source, what: `weight ${from} \u2192 ${to}`,
      read: () => this.weights[layer][unit * inputs + source], x: event.clientX, y: event.clientY, edit,
    });
  }

  hoverBias(layer, unit, event, edit = false) {
    if (!this.biasValues) return;
    const to = layer === this.plan.hidden.length ? `output ${unit + 1}` : `unit ${unit + 1} of layer ${layer + 1}`;
    this.hooks.hover({
      kind: "bias", layer, unit, what: `bias of ${to}`,
      read: () => this.biasValues[layer][unit], x: event.clientX, y: event.clientY, edit,
    });
  }

  /** Draw one frame: link colours and widths, bias colours, unit heat maps. */
  update(net, frame, options) {
    this.weights = frame.weights;
    this.biasValues = frame.biases;
    frame.weights.forEach((layer, l) => {
      const paths = this.links[l] || [];
      for (let i = 0; i < paths.length && i < layer.length; i++) {
        const w = layer[i];
        paths[i].style.stroke = colourOf(w);
        paths[i].style.strokeWidth = linkWidth(w);
      }
    });
    frame.biases.forEach((layer, l) => {
      const boxes = this.biases[l] || [];
      for (let u = 0; u < boxes.length && u < layer.length; u++) boxes[u].style.background = colourOf(layer[u]);
    });
    if (frame.neurons) {
      frame.neurons.forEach((layer, l) => {
        const canvases = this.canvases[l] || [];
        layer.forEach((unit, u) => {
          if (!canvases[u]) return;
          if (this.data.input_dim === 1) drawUnitCurve(canvases[u], unit.values);
          else drawGrid(canvases[u], decode(unit.grid), frame.neuron_grid, options);
        });
      });
    }
    if (frame.output && this.outputCanvases.length) {
      const output = frame.output;
      this.outputCanvases.forEach((canvas, k) => {
        if (output.kind === "curve") {
          drawUnitCurve(canvas, output.unit_values);
        } else if (output.units) {
          // k classes: output unit k shows its own probability p_k in class k's colour
          const classes = new Uint8Array(output.size * output.size).fill(k);
          drawGrid(canvas, decode(output.units[k]), output.size, { classes, k: this.plan.num_classes });
        } else {
          drawGrid(canvas, decode(output.grid), output.size, options);
        }
      });
    }
  }
}
