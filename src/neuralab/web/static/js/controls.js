// Form controls bound to PlaygroundConfig fields. Each control shows one field of a network's
// config and sends {field: value} when the user changes it; the server checks the value and
// answers with the new state (or an error line), so the page holds no rules of its own.

const LEARNING_RATES = ["0.00001", "0.0001", "0.001", "0.003", "0.01", "0.03", "0.1", "0.3", "0.5", "1", "3", "10"];

/** The data panel's controls (shared by A and B): they set network A's data fields, which B shares. */
export function dataControls(meta) {
  return [
    { field: "train_ratio", label: "Ratio of training to test data", kind: "range", min: 0.05, max: 1, step: 0.05,
      show: (v) => `${Math.round(v * 100)}%` },
    { field: "noise", label: "Noise", kind: "range", min: 0, max: 100, step: 1, show: (v) => `${v}`,
      hidden: (config, data) => data && data.uploaded },
    { field: "n", label: "Examples (train + test)", kind: "number", min: 4, max: meta.limits.max_points, step: 1,
      hidden: (config, data) => data && data.uploaded },
    { field: "classes", label: "Classes", kind: "number", min: 2, max: meta.limits.max_classes, step: 1,
      hidden: (config) => config.data !== "blobs" },
    { field: "data_seed", label: "Data seed (empty: the network's seed)", kind: "number", min: 0, step: 1, nullable: true },
  ];
}

/** A network's training settings (two columns; ``wide`` ones span both). */
export function trainingControls(meta) {
  return [
    { field: "lr", label: "Learning rate", title: "learning rate eta", kind: "number", list: LEARNING_RATES, min: 0, step: "any" },
    { field: "optimizer", label: "Optimizer", kind: "select", options: meta.optimizers },
    { field: "activation", label: "Activation", title: "the activation of every hidden layer (each layer can have its own: the menus above the layers)",
      kind: "select", options: meta.hidden_activations, mixed: true },
    { field: "momentum", label: "Momentum \u03bc", kind: "number", min: 0, max: 0.999, step: "any",
      hidden: (config) => config.optimizer !== "momentum" },
    { field: "init", label: "Initialization", title: "weight initialization: a scheme of the shared table, or constant(c), normal(std), uniform(a), scaled(s)",
      kind: "text", list: meta.inits, wide: true },
    { field: "bias_init", label: "Bias init", title: "the constant every bias starts at (0.01 keeps ReLUs active)", kind: "number", step: "any" },
    { field: "dropout", label: "Dropout p", title: "probability of dropping a hidden unit while training", kind: "number", min: 0, max: 0.95, step: "any" },
    { field: "output", label: "Output", title: "output activation (auto: from the data and the loss)", kind: "select", options: meta.outputs },
    { field: "loss", label: "Loss", title: "mse, bce (binary cross-entropy) or ce (cross-entropy); auto: from the data", kind: "select", options: meta.losses },
    { field: "l1", label: "L1 \u03bb\u2081", title: "L1 penalty lambda_1 * sum |w| (weights only)", kind: "number", min: 0, step: "any" },
    { field: "l2", label: "L2 \u03bb\u2082", title: "L2 penalty lambda_2 / 2 * sum w^2 (weights only)", kind: "number", min: 0, step: "any" },
    { field: "batch_size", label: "Batch size", title: "examples per update: 0 = the full batch (gradient descent), 1 = SGD", kind: "number", min: 0, step: 1 },
    { field: "order", label: "Order", title: "shuffled, or sorted by label (all of one class first)", kind: "select", options: meta.orders },
    { field: "seed", label: "Seed", title: "seed of the initialization, the batches and dropout (and of the data, unless a data seed is set)", kind: "number", min: 0, step: 1 },
    { field: "shuffle", label: "Reshuffle every epoch", kind: "check", wide: true },
  ];
}

/** A network's stop conditions. */
export function stopControls(meta, fields) {
  const controls = [
    { field: "epochs", label: "Epochs", kind: "number", min: 1, max: meta.limits.max_epochs, step: 1 },
    { field: "iterations", label: "Updates", title: "stop after this many parameter updates (0: use epochs)", kind: "number", min: 0, step: 1 },
  ];
  if (fields.includes("target_loss")) {
    controls.push({ field: "target_loss", label: "Test loss \u2264", title: "also stop at the end of the epoch the test loss reaches this (0: off)",
      kind: "number", min: 0, step: "any" });
  }
  return controls;
}

let listCount = 0;

/** Build controls into ``container``; return an updater ``(config, data) => void``. */
export function buildControls(container, specs, send) {
  container.textContent = "";
  const bound = [];
  for (const spec of specs) {
    const wrapper = document.createElement("label");
    wrapper.className = `${spec.kind === "check" ? "control check" : "control"}${spec.wide ? " wide" : ""}`;
    if (spec.title) wrapper.title = spec.title;
    wrapper.dataset.field = spec.field;
    const caption = document.createElement("span");
    const text = document.createElement("span");
    text.textContent = spec.label;
    caption.appendChild(text);
    const shown = document.createElement("b");
    caption.appendChild(shown);
    let input;
    if (spec.kind === "select") {
      input = document.createElement("select");
      const options = spec.mixed ? [...spec.options, "mixed"] : spec.options;
      for (const name of options) {
        const option = document.createElement("option");
        option.value = name;
        option.textContent = name === "mixed" ? "per layer" : name;
        if (name === "mixed") option.disabled = true;
        input.appendChild(option);
      }
    } else {
      input = document.createElement("input");
      input.type = spec.kind === "check" ? "checkbox" : spec.kind === "range" ? "range" : spec.kind === "number" ? "number" : "text";
      for (const key of ["min", "max", "step"]) if (spec[key] !== undefined) input[key] = spec[key];
      if (spec.list) {
        const list = document.createElement("datalist");
        list.id = `list-${++listCount}`;
        for (const value of spec.list) {
          const option = document.createElement("option");
          option.value = value;
          list.appendChild(option);
        }
        wrapper.appendChild(list);
        input.setAttribute("list", list.id);
      }
    }
    input.name = spec.field;
    if (spec.kind === "check") {
      wrapper.appendChild(input);
      wrapper.appendChild(caption);
    } else {
      wrapper.appendChild(caption);
      wrapper.appendChild(input);
    }
    const event = spec.kind === "range" ? "input" : "change";
    input.addEventListener(event, () => {
      if (spec.kind === "range" && spec.show) shown.textContent = spec.show(Number(input.value));
    });
    input.addEventListener("change", () => send({ [spec.field]: readValue(spec, input) }));
    container.appendChild(wrapper);
    bound.push({ spec, input, shown, wrapper });
  }
  return (config, data) => {
    for (const { spec, input, shown, wrapper } of bound) {
      const value = config[spec.field];
      wrapper.hidden = Boolean(spec.hidden && spec.hidden(config, data));
      if (document.activeElement === input) continue; // the user is typing here
      if (spec.kind === "check") input.checked = Boolean(value);
      else if (spec.kind === "select" && spec.mixed && String(value).includes(",")) input.value = "mixed";
      else input.value = value === null || value === undefined ? "" : String(value);
      shown.textContent = spec.show ? spec.show(value) : "";
    }
  };
}

function readValue(spec, input) {
  if (spec.kind === "check") return input.checked;
  if (spec.kind === "number" || spec.kind === "range") {
    if (input.value.trim() === "") return spec.nullable ? null : input.value;
    const number = Number(input.value);
    return Number.isFinite(number) ? number : input.value;
  }
  return input.value;
}
