// Downloads: files the server wrote for us (config.yaml, model.py, weights.json or .safetensors) and the figures
// drawn on the page (the output heat map as PNG, the network and the loss curves as SVG).

import { drawAxes, drawCurve, drawPoints } from "./heatmap.js";

const SVG = "http://www.w3.org/2000/svg";

/** Offer ``text`` (or a Blob) as a file download named ``name``. */
export function download(name, content, type = "text/plain") {
  const blob = content instanceof Blob ? content : new Blob([content], { type });
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Return a PNG (Blob promise) of the output panel: heat map, points and axes, 2x resolution. */
export function outputPng(view, data, curve, showTest) {
  const size = 576;
  const canvas = document.createElement("canvas");
  canvas.width = size;
  canvas.height = size;
  const context = canvas.getContext("2d");
  context.fillStyle = "#fff";
  context.fillRect(0, 0, size, size);
  if (data.input_dim === 1) {
    drawCurve(context, size, data, curve, { showTest });
  } else {
    context.imageSmoothingEnabled = true;
    context.drawImage(view.heat, 0, 0, size, size);
    drawPoints(context, size, data, { showTest, radius: 5 });
    drawAxes(context, size, data.domain);
  }
  return new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
}

/** Return SVG text of the loss chart (training grey, test black). */
export function chartSvg(svg, title) {
  const copy = svg.cloneNode(true);
  copy.setAttribute("xmlns", SVG);
  copy.setAttribute("width", "600");
  copy.setAttribute("height", "180");
  const style = document.createElementNS(SVG, "style");
  style.textContent = "polyline{fill:none;stroke-width:1.4;vector-effect:non-scaling-stroke}"
    + ".train{stroke:#999}.test{stroke:#111}.other{stroke:#0877bd;stroke-dasharray:3 2}"
    + "text{font:9px sans-serif;fill:#777}";
  copy.insertBefore(style, copy.firstChild);
  const caption = document.createElementNS(SVG, "text");
  caption.setAttribute("x", "4");
  caption.setAttribute("y", "10");
  caption.textContent = title;
  copy.appendChild(caption);
  return new XMLSerializer().serializeToString(copy);
}

/** Return SVG text of the network diagram: links as paths, units as embedded images. */
export function networkSvg(root) {
  const links = root.querySelector("svg.links");
  const width = Number(links.getAttribute("width"));
  const height = Number(links.getAttribute("height"));
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("xmlns", SVG);
  svg.setAttribute("width", width);
  svg.setAttribute("height", height);
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  const background = document.createElementNS(SVG, "rect");
  background.setAttribute("width", width);
  background.setAttribute("height", height);
  background.setAttribute("fill", "#fff");
  svg.appendChild(background);
  for (const path of links.querySelectorAll("path.link")) {
    const copy = document.createElementNS(SVG, "path");
    copy.setAttribute("d", path.getAttribute("d"));
    copy.setAttribute("fill", "none");
    copy.setAttribute("stroke", path.style.stroke || "#ccc");
    copy.setAttribute("stroke-width", path.style.strokeWidth || "1");
    svg.appendChild(copy);
  }
  const origin = root.querySelector(".nodes").getBoundingClientRect();
  for (const node of root.querySelectorAll(".node")) {
    const box = node.getBoundingClientRect();
    const image = document.createElementNS(SVG, "image");
    image.setAttribute("x", box.left - origin.left);
    image.setAttribute("y", box.top - origin.top);
    image.setAttribute("width", box.width);
    image.setAttribute("height", box.height);
    image.setAttribute("href", node.querySelector("canvas").toDataURL("image/png"));
    image.setAttribute("opacity", getComputedStyle(node).opacity);
    svg.appendChild(image);
  }
  for (const bias of root.querySelectorAll(".bias")) {
    const box = bias.getBoundingClientRect();
    const rect = document.createElementNS(SVG, "rect");
    rect.setAttribute("x", box.left - origin.left);
    rect.setAttribute("y", box.top - origin.top);
    rect.setAttribute("width", box.width);
    rect.setAttribute("height", box.height);
    rect.setAttribute("fill", bias.style.background || "#ccc");
    rect.setAttribute("stroke", "#888");
    svg.appendChild(rect);
  }
  for (const label of root.querySelectorAll(".node-label, .output-node-label")) {
    const box = label.getBoundingClientRect();
    const text = document.createElementNS(SVG, "text");
    text.setAttribute("x", box.right - origin.left - 6);
    text.setAttribute("y", box.top - origin.top + box.height * 0.75);
    text.setAttribute("text-anchor", "end");
    text.setAttribute("font-family", "sans-serif");
    text.setAttribute("font-size", "11");
    text.textContent = label.textContent;
    svg.appendChild(text);
  }
  return new XMLSerializer().serializeToString(svg);
}
