// Colour scales and drawing of heat maps, data points and 1-D curves on canvases.
// Values arrive from the server quantised to bytes: q = round((v + 1) * 127.5) for v in [-1, 1].

const NEGATIVE = [245, 147, 34]; // #f59322: v = -1, class 0
const ZERO = [232, 234, 235]; // #e8eaeb: v = 0
const POSITIVE = [8, 119, 189]; // #0877bd: v = +1, class 1
export const CLASS_COLOURS = [
  "#f59322", "#0877bd", "#2ca02c", "#d62728", "#9467bd",
  "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
];
const CLASS_RGB = CLASS_COLOURS.map(hexToRgb);

function hexToRgb(hex) {
  const n = parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

function mix(a, b, t) {
  return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
}

// 256 colours, one per byte value: orange -> grey -> blue.
const SCALE = Array.from({ length: 256 }, (_, q) => {
  const v = q / 127.5 - 1;
  return v < 0 ? mix(ZERO, NEGATIVE, -v) : mix(ZERO, POSITIVE, v);
});

/** Return the CSS colour of v in [-1, 1] (clamped). */
export function colourOf(v) {
  const q = Math.max(0, Math.min(255, Math.round((v + 1) * 127.5)));
  const [r, g, b] = SCALE[q];
  return `rgb(${r | 0},${g | 0},${b | 0})`;
}

/** Return the bytes of a base64 string. */
export function decode(b64) {
  const text = atob(b64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

/** Draw a size x size grid of bytes on a canvas of that size (row 0 at the top). */
export function drawGrid(canvas, bytes, size, { discretize = false, classes = null, k = 2, light = false } = {}) {
  if (canvas.width !== size) { canvas.width = size; canvas.height = size; }
  const context = canvas.getContext("2d");
  const image = context.createImageData(size, size);
  const data = image.data;
  for (let i = 0; i < size * size; i++) {
    let rgb;
    if (classes) {
      // multi-class: the winning class, lighter where the network is unsure
      const colour = CLASS_RGB[classes[i] % CLASS_RGB.length];
      const floor = 1 / k;
      const confidence = discretize ? 1 : Math.max(0, (bytes[i] / 255 - floor) / (1 - floor));
      rgb = mix([255, 255, 255], colour, 0.08 + 0.5 * confidence);
    } else {
      let q = bytes[i];
      if (discretize) q = q >= 128 ? 255 : 0;
      rgb = SCALE[q];
    }
    if (light) rgb = mix([255, 255, 255], rgb, 0.62); // the output: lighter, so the points stand out
    data[4 * i] = rgb[0];
    data[4 * i + 1] = rgb[1];
    data[4 * i + 2] = rgb[2];
    data[4 * i + 3] = 255;
  }
  context.putImageData(image, 0, 0);
}

/** Size a canvas for sharp drawing at the device's pixel ratio; return its 2-D context. */
export function sharpContext(canvas, width, height) {
  const ratio = window.devicePixelRatio || 1;
  if (canvas.width !== Math.round(width * ratio)) {
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
  }
  const context = canvas.getContext("2d");
  context.setTransform(ratio, 0, 0, ratio, 0, 0);
  context.clearRect(0, 0, width, height);
  return context;
}

/** The colour of a point's label: a class colour, or the scale for a regression target. */
export function pointColour(label, data) {
  if (data.task === "regression") return colourOf(label / (data.target_scale || 1));
  return CLASS_COLOURS[label % CLASS_COLOURS.length];
}

/** Draw training points (filled) and test points (hollow) in the square domain. */
export function drawPoints(context, width, data, { showTest = true, radius = 3, rim = true } = {}) {
  const [x0, x1, y0, y1] = data.domain;
  const sx = (x) => ((x - x0) / (x1 - x0)) * width;
  const sy = (y) => ((y1 - y) / (y1 - y0)) * width;
  context.lineWidth = 1;
  // regression points take the background's colour scale: a dark rim keeps them visible
  const regression = data.task === "regression" && rim;
  for (const [a, b, label] of data.train) {
    context.beginPath();
    context.arc(sx(a), sy(b), radius, 0, 2 * Math.PI);
    context.fillStyle = pointColour(label, data);
    context.fill();
    context.strokeStyle = regression ? "rgba(0,0,0,0.45)" : "rgba(255,255,255,0.9)";
    context.stroke();
  }
  if (!showTest) return;
  for (const [a, b, label] of data.test) {
    context.beginPath();
    context.arc(sx(a), sy(b), radius, 0, 2 * Math.PI);
    if (regression) {
      context.lineWidth = 2.6;
      context.strokeStyle = "rgba(0,0,0,0.45)";
      context.stroke();
    }
    context.lineWidth = 1.6;
    context.strokeStyle = pointColour(label, data);
    context.stroke();
  }
}

/** Draw light axis ticks along the bottom and left edges of the square domain. */
export function drawAxes(context, width, domain) {
  const [x0, x1, y0, y1] = domain;
  const step = niceStep((x1 - x0) / 5);
  context.font = "10px system-ui, sans-serif";
  const label = (text, x, y, align) => {
    context.textAlign = align;
    context.fillStyle = "rgba(255,255,255,0.75)";
    const w = context.measureText(text).width;
    const left = align === "center" ? x - w / 2 : x;
    context.fillRect(left - 1, y - 9, w + 2, 11);
    context.fillStyle = "rgba(0,0,0,0.6)";
    context.fillText(text, x, y);
  };
  for (let t = Math.ceil(x0 / step) * step; t <= x1 + 1e-9; t += step) {
    const x = ((t - x0) / (x1 - x0)) * width;
    if (x < 14 || x > width - 14) continue;
    label(formatTick(t), x, width - 3, "center");
  }
  for (let t = Math.ceil(y0 / step) * step; t <= y1 + 1e-9; t += step) {
    const y = ((y1 - t) / (y1 - y0)) * width;
    if (y < 14 || y > width - 14) continue;
    label(formatTick(t), 3, y + 4, "left");
  }
  context.textAlign = "left";
}

function niceStep(raw) {
  const power = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * power >= raw) return m * power;
  return 10 * power;
}

function formatTick(t) {
  return Math.abs(t) < 1e-9 ? "0" : String(+t.toFixed(2));
}

/** Draw a 1-D regression: points (x, y), and the network's curve over x. */
export function drawCurve(context, width, data, curve, { showTest = true } = {}) {
  const [x0, x1, y0, y1] = data.domain;
  const sx = (x) => ((x - x0) / (x1 - x0)) * width;
  const sy = (y) => ((y1 - y) / (y1 - y0)) * width;
  context.fillStyle = "#fafafa";
  context.fillRect(0, 0, width, width);
  context.strokeStyle = "#ddd";
  context.beginPath();
  context.moveTo(0, sy(0));
  context.lineTo(width, sy(0));
  context.stroke();
  for (const [x, y] of data.train) {
    context.beginPath();
    context.arc(sx(x), sy(y), 3, 0, 2 * Math.PI);
    context.fillStyle = CLASS_COLOURS[1];
    context.fill();
  }
  if (showTest) {
    context.lineWidth = 1.5;
    for (const [x, y] of data.test) {
      context.beginPath();
      context.arc(sx(x), sy(y), 3, 0, 2 * Math.PI);
      context.strokeStyle = CLASS_COLOURS[1];
      context.stroke();
    }
  }
  if (curve) {
    context.lineWidth = 2.2;
    context.strokeStyle = CLASS_COLOURS[0];
    context.beginPath();
    curve.ys.forEach((y, i) => {
      const x = curve.xs[i];
      if (i === 0) context.moveTo(sx(x), sy(y));
      else context.lineTo(sx(x), sy(y));
    });
    context.stroke();
  }
}

/** Draw a unit's activation over x (1-D data) as a small line plot. */
export function drawUnitCurve(canvas, values) {
  const size = canvas.clientWidth || 30;
  const context = sharpContext(canvas, size, size);
  context.fillStyle = "#f4f4f4";
  context.fillRect(0, 0, size, size);
  context.strokeStyle = "#ccc";
  context.beginPath();
  context.moveTo(0, size / 2);
  context.lineTo(size, size / 2);
  context.stroke();
  context.strokeStyle = CLASS_COLOURS[1];
  context.lineWidth = 1.5;
  context.beginPath();
  values.forEach((v, i) => {
    const x = (i / (values.length - 1)) * size;
    const y = size / 2 - (v * size) / 2.2;
    if (i === 0) context.moveTo(x, y);
    else context.lineTo(x, y);
  });
  context.stroke();
}
