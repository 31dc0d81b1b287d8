// The loss curves: training (grey) and test (black) loss per epoch, drawn as SVG polylines so the
// chart exports as a vector figure. Long runs are thinned to about 600 points when drawn.

const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 300;
const HEIGHT = 90;
const MAX_POINTS = 600;

export class LossChart {
  constructor(svg) {
    this.svg = svg;
    this.rows = []; // [epoch, train_loss, test_loss, train_acc, test_acc]
    this.other = null; // the other network's rows (A | B), drawn dashed
    this.lines = {};
    for (const name of ["other", "train", "test"]) {
      const line = document.createElementNS(SVG, "polyline");
      line.setAttribute("class", name);
      svg.appendChild(line);
      this.lines[name] = line;
    }
    this.log = false; // a click on the chart switches between a linear and a log scale
    svg.addEventListener("click", () => { this.log = !this.log; this.draw(); });
    svg.style.cursor = "pointer";
    svg.appendChild(document.createElementNS(SVG, "title")).textContent = "click: linear / log scale";
    this.label = document.createElementNS(SVG, "text");
    this.label.setAttribute("x", WIDTH - 4);
    this.label.setAttribute("y", 10);
    this.label.setAttribute("text-anchor", "end");
    svg.appendChild(this.label);
  }

  reset() {
    this.rows = [];
    this.draw();
  }

  add(rows) {
    for (const row of rows) {
      const last = this.rows[this.rows.length - 1];
      if (last && row[0] <= last[0]) continue; // a resent epoch
      this.rows.push(row);
    }
  }

  draw() {
    const rows = this.rows;
    const finite = (v) => v !== null && Number.isFinite(v);
    let top = 0;
    let bottom = Infinity;
    for (const r of [...rows, ...(this.other || [])]) {
      for (const v of [r[1], r[2]]) {
        if (!finite(v)) continue;
        top = Math.max(top, v);
        if (v > 0) bottom = Math.min(bottom, v);
      }
    }
    const epochs = Math.max(1, rows.length ? rows[rows.length - 1][0] : 1,
      this.other && this.other.length ? this.other[this.other.length - 1][0] : 1);
    top = top > 0 ? top * 1.05 : 1;
    bottom = Number.isFinite(bottom) ? Math.min(bottom, top / 10) : top / 10;
    const [lo, hi] = [Math.log10(bottom), Math.log10(top)];
    const y = this.log
      ? (v) => HEIGHT - 2 - ((Math.log10(Math.max(v, bottom)) - lo) / (hi - lo)) * (HEIGHT - 6)
      : (v) => HEIGHT - (v / top) * (HEIGHT - 4);
    const points = (series, column) => {
      const stride = Math.max(1, Math.ceil(series.length / MAX_POINTS));
      const out = [];
      for (let i = 0; i < series.length; i += stride) {
        const r = series[i];
        if (!finite(r[column])) continue;
        out.push(`${((r[0] / epochs) * WIDTH).toFixed(1)},${y(r[column]).toFixed(1)}`);
      }
      const last = series[series.length - 1];
      if (last && (series.length - 1) % stride !== 0 && finite(last[column])) {
        out.push(`${WIDTH},${y(last[column]).toFixed(1)}`);
      }
      return out.join(" ");
    };
    this.lines.train.setAttribute("points", points(rows, 1));
    this.lines.test.setAttribute("points", points(rows, 2));
    this.lines.other.setAttribute("points", this.other ? points(this.other, 2) : "");
    this.label.textContent = rows.length
      ? (this.log ? `log scale, ${bottom.toPrecision(2)} .. ${top.toPrecision(2)}` : `max ${top.toPrecision(2)}`) : "";
  }
}
