// The batch add page's parameter inputs (templates/admin/backtest/backtestbatch/add_form.html).
//
// The grid and variant textareas stay the form's data: this script builds one row per
// parameter of the chosen strategy from #batch-param-schema (apps/backtest/param_schema.py)
// and rewrites their JSON on every change. Typed numbers go into the JSON as typed, never
// through a JavaScript float, and a range goes as {"start", "stop", "step"} for the server
// to expand in Decimal (apps/backtest/batch_params.py). The counts shown here are exact
// (BigInt); the server's checks stay the authority and its messages are shown as usual.
(function () {
  "use strict";
  var schemaNode = document.getElementById("batch-param-schema");
  var stringsNode = document.getElementById("batch-form-strings");
  var gridArea = document.getElementById("id_grid");
  var variantArea = document.getElementById("id_variant");
  var strategySelect = document.getElementById("id_strategy");
  if (!schemaNode || !stringsNode || !gridArea || !variantArea || !strategySelect) return;
  var SCHEMA = JSON.parse(schemaNode.textContent);
  var T = JSON.parse(stringsNode.textContent);
  var kindSelect = document.getElementById("id_kind");
  var foldsInput = document.getElementById("id_folds");
  var paramsArea = document.getElementById("id_params");
  var riskSelect = document.getElementById("id_risk_profile");
  var NUMERIC = { int: true, float: true };
  var RANGE_PARTS = ["start", "stop", "step"];
  var MAX_EXPONENT = 40; // a number typed beyond this is left to the server to judge
  var PREVIEW = 6; // range values listed in a row's note
  var TEN = BigInt(10);
  var ZERO = BigInt(0);

  // --- small helpers ----------------------------------------------------------------

  function say(template, values) {
    return template.replace(/\{(\w+)\}/g, function (whole, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : whole;
    });
  }

  function make(tag, attributes, children) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) {
      var value = attributes[name];
      if (name === "text") node.textContent = value;
      else if (name === "className") node.className = value;
      else if (value !== null && value !== undefined) node.setAttribute(name, value);
    });
    (children || []).forEach(function (child) {
      if (child) node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function mark(input, problem) {
    input.classList.toggle("param-invalid", !!problem);
    input.setAttribute("aria-invalid", problem ? "true" : "false");
  }

  function jsonText(value) {
    return typeof value === "string" ? value : JSON.stringify(value);
  }

  function isObject(value) {
    return value !== null && typeof value === "object" && !Array.isArray(value);
  }

  function parseJson(text) {
    try {
      return { value: JSON.parse(text) };
    } catch (error) {
      return null;
    }
  }

  // --- exact numbers ------------------------------------------------------------------

  // A typed number as a JSON literal with its digits untouched (".5" -> "0.5",
  // "+3" -> "3", "05" -> "5"), or null when the text is not a number.
  function literal(text) {
    var m = /^\s*([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?\s*$/.exec(text);
    if (!m || (m[2] === "" && !m[3])) return null;
    var whole = m[2].replace(/^0+(?=\d)/, "") || "0";
    return (m[1] === "-" ? "-" : "") + whole + (m[3] ? "." + m[3] : "") + (m[4] ? "e" + m[4] : "");
  }

  // A JSON literal as units / 10^scale (BigInt units), or null for a huge exponent.
  function exact(lit) {
    var m = /^(-?)(\d+)(?:\.(\d+))?(?:e([+-]?\d+))?$/.exec(lit);
    if (!m) return null;
    var exponent = Number(m[4] || 0);
    if (Math.abs(exponent) > MAX_EXPONENT) return null;
    var fraction = m[3] || "";
    var digits = m[2] + fraction;
    var scale = fraction.length - exponent;
    if (scale < 0) {
      digits += "0".repeat(-scale);
      scale = 0;
    }
    var units = BigInt(digits);
    return { units: m[1] === "-" ? -units : units, scale: scale };
  }

  function unitsAt(number, scale) {
    return number.units * TEN ** BigInt(scale - number.scale);
  }

  function compare(a, b) {
    var scale = Math.max(a.scale, b.scale);
    var x = unitsAt(a, scale);
    var y = unitsAt(b, scale);
    return x < y ? -1 : x > y ? 1 : 0;
  }

  function isWhole(number) {
    return number.units % TEN ** BigInt(number.scale) === ZERO;
  }

  function decimalText(units, scale) {
    var negative = units < ZERO;
    var text = (negative ? -units : units).toString();
    if (scale > 0) {
      text = text.padStart(scale + 1, "0");
      text = (text.slice(0, -scale) + "." + text.slice(-scale)).replace(/\.?0+$/, "");
    }
    return (negative ? "-" : "") + text;
  }

  function boundOf(value) {
    return value === null || value === undefined ? null : exact(literal(String(value)));
  }

  // The first rule a typed number breaks, worded as the server words it, or "".
  function problemOf(param, lit) {
    var wanted = param.kind === "int" ? T.must_integer : T.must_number;
    if (lit === null) return wanted;
    var number = exact(lit);
    if (number === null) return ""; // the server judges the huge ones
    if (param.kind === "int" && !isWhole(number)) return T.must_integer;
    var low = boundOf(param.min_value);
    var high = boundOf(param.max_value);
    if (low && compare(number, low) < 0) return say(T.must_at_least, { min: param.min_value });
    if (high && compare(number, high) > 0) return say(T.must_at_most, { max: param.max_value });
    return "";
  }

  function describe(param) {
    var parts = [];
    if (param.kind === "choice") parts.push(say(T.choice, { choices: param.choices.join(", ") }));
    else parts.push(T[param.kind] || param.kind);
    var low = param.min_value;
    var high = param.max_value;
    if (low !== null && high !== null) parts.push(say(T.between, { min: low, max: high }));
    else if (low !== null) parts.push(say(T.at_least, { min: low }));
    else if (high !== null) parts.push(say(T.at_most, { max: high }));
    parts.push(say(T["default"], { value: jsonText(param.initial) }));
    return parts.join(" · ");
  }

  function choicesOf(param) {
    return param.kind === "bool" ? [true, false] : param.choices;
  }

  function parametersOf(key) {
    var strategy = SCHEMA.strategies[key];
    return strategy ? strategy.parameters : [];
  }

  function headerRow(labels) {
    return make("thead", {}, [
      make("tr", {}, labels.map(function (label) { return make("th", { scope: "col", text: label }); })),
    ]);
  }

  function nameCell(param) {
    return make("th", { scope: "row" }, [
      make("span", { text: param.label, title: param.help_text }),
      make("br"),
      make("code", { text: param.name }),
    ]);
  }

  // --- a builder: the inputs, or the textarea itself ("Edit as JSON") ----------------

  function Builder(area, id) {
    this.area = area;
    this.jsonMode = false;
    this.table = make("table", { className: "param-table", id: id + "-table" });
    this.summary = make("p", { className: "param-summary", id: id + "-summary", "aria-live": "polite" });
    this.note = make("p", { className: "param-note", id: id + "-json-note", hidden: "hidden" });
    this.toggle = make("button", { type: "button", className: "param-json-toggle", id: id + "-json-toggle", text: T.edit_json });
    this.inputs = make("div", { className: "param-inputs" }, [this.table, this.summary]);
    this.box = make("div", { className: "param-builder", id: id }, [this.inputs, this.note, this.toggle]);
    // In the field's row, where the textarea was: beside its label, like any input.
    area.parentNode.insertBefore(this.box, area.nextSibling);
    area.classList.add("param-json");
  }

  Builder.prototype.showJson = function (on, message) {
    this.jsonMode = on;
    this.area.classList.toggle("param-json-hidden", !on);
    this.inputs.hidden = on;
    this.toggle.textContent = on ? T.use_inputs : T.edit_json;
    this.note.hidden = !message;
    this.note.textContent = message || "";
  };

  // The server's "grid.fast…" or "variant.params.fast…" messages mark their rows.
  Builder.prototype.markServerErrors = function (rows, pattern) {
    var formRow = this.area.closest(".form-row");
    if (!formRow) return;
    formRow.querySelectorAll(".errorlist li").forEach(function (item) {
      var m = pattern.exec(item.textContent);
      rows.forEach(function (row) {
        if (m && row.param.name === m[1]) row.tr.classList.add("param-row-error");
      });
    });
  };

  // --- the grid -----------------------------------------------------------------------

  var grid = new Builder(gridArea, "grid-builder");
  var gridRows = [];
  // The strategy's cross-field rules (fast below slow): the service skips the
  // combinations that break them, so the count above is the most the batch runs.
  grid.rules = make("p", { className: "param-rules", id: "grid-builder-rules", hidden: "hidden" });
  grid.inputs.appendChild(grid.rules);

  function gridRow(param) {
    var id = "grid-param-" + param.name;
    var numeric = NUMERIC[param.kind];
    var row = { param: param, inputs: {} };
    row.mode = make("select", { id: id + "-mode", "aria-label": param.label + ": " + T.sweep }, [
      make("option", { value: "", text: T.not_swept }),
      make("option", { value: "list", text: T.list }),
      numeric ? make("option", { value: "range", text: T.range }) : null,
    ]);
    if (numeric) {
      row.inputs.list = make("input", {
        type: "text", inputmode: "decimal", id: id + "-values", placeholder: T.list_placeholder,
        "aria-label": param.label + ": " + T.values,
      });
      row.listBox = make("span", { className: "param-list" }, [row.inputs.list]);
      row.rangeBox = make("span", { className: "param-range" }, RANGE_PARTS.map(function (part) {
        row.inputs[part] = make("input", {
          type: "text", inputmode: "decimal", id: id + "-" + part, placeholder: T[part],
          "aria-label": param.label + ": " + T[part],
        });
        return row.inputs[part];
      }));
    } else {
      row.inputs.checks = choicesOf(param).map(function (choice, index) {
        return make("input", { type: "checkbox", id: id + "-choice-" + index, value: JSON.stringify(choice) });
      });
      row.listBox = make("span", { className: "param-list" }, row.inputs.checks.map(function (box, index) {
        return make("label", { "for": box.id }, [box, " " + String(choicesOf(param)[index])]);
      }));
    }
    row.note = make("span", { className: "param-row-note", id: id + "-note" });
    row.tr = make("tr", { "data-param": param.name }, [
      nameCell(param),
      make("td", { className: "param-bounds", text: describe(param) }),
      make("td", {}, [row.mode]),
      make("td", {}, [row.listBox, row.rangeBox || null, row.note]),
    ]);
    return row;
  }

  function buildGridRows() {
    var parameters = parametersOf(strategySelect.value);
    gridRows = parameters.map(gridRow);
    grid.table.replaceChildren(
      headerRow([T.parameter, T.type_and_bounds, T.sweep, T.values]),
      make("tbody", {}, gridRows.map(function (row) { return row.tr; }))
    );
  }

  function listState(row) {
    var tokens = row.inputs.list.value.split(/[\s,;]+/).filter(Boolean);
    var problem = tokens.length ? "" : T.empty_list;
    var seen = {};
    var items = tokens.map(function (token) {
      var lit = literal(token);
      problem = problem || problemOf(row.param, lit);
      var number = lit === null ? null : exact(lit);
      var key = number ? decimalText(number.units, number.scale) : token;
      if (seen[key]) problem = problem || say(T.repeated, { value: token });
      seen[key] = true;
      return lit === null ? JSON.stringify(token) : lit;
    });
    mark(row.inputs.list, problem);
    return { json: "[" + items.join(", ") + "]", count: BigInt(tokens.length), problem: problem };
  }

  function checkedState(row) {
    var picked = row.inputs.checks.filter(function (box) { return box.checked; });
    return {
      json: "[" + picked.map(function (box) { return box.value; }).join(", ") + "]",
      count: BigInt(picked.length),
      problem: picked.length ? "" : T.empty_list,
    };
  }

  function rangeState(row) {
    var param = row.param;
    var lits = {};
    var problem = "";
    RANGE_PARTS.forEach(function (part) {
      var input = row.inputs[part];
      var text = input.value.trim();
      var lit = text ? literal(text) : null;
      var own = "";
      if (!text) own = T.range_incomplete;
      else if (part !== "step") own = problemOf(param, lit);
      else if (lit === null) own = param.kind === "int" ? T.must_integer : T.must_number;
      else if (exact(lit) && param.kind === "int" && !isWhole(exact(lit))) own = T.must_integer;
      else if (exact(lit) && exact(lit).units <= ZERO) own = T.step_above_zero;
      mark(input, text ? own : "");
      problem = problem || (own && own !== T.range_incomplete ? T[part] + ": " + own : own);
      lits[part] = text ? (lit === null ? JSON.stringify(text) : lit) : "null";
    });
    var json = "{" + RANGE_PARTS.map(function (part) {
      return JSON.stringify(part) + ": " + lits[part];
    }).join(", ") + "}";
    if (problem) return { json: json, count: null, problem: problem };
    var start = exact(lits.start);
    var stop = exact(lits.stop);
    var step = exact(lits.step);
    if (!start || !stop || !step) return { json: json, count: null, problem: "" };
    if (compare(stop, start) < 0) {
      mark(row.inputs.stop, T.stop_before_start);
      return { json: json, count: null, problem: T.stop_before_start };
    }
    var scale = Math.max(start.scale, stop.scale, step.scale);
    var first = unitsAt(start, scale);
    var stride = unitsAt(step, scale);
    var count = (unitsAt(stop, scale) - first) / stride + BigInt(1);
    var shown = [];
    for (var i = 0; BigInt(i) < count && i < PREVIEW; i++) {
      shown.push(decimalText(first + stride * BigInt(i), scale));
    }
    if (count > BigInt(PREVIEW)) shown.push("…");
    return { json: json, count: count, problem: "", preview: shown.join(", ") };
  }

  function gridRowState(row) {
    var mode = row.mode.value;
    if (row.listBox) row.listBox.hidden = mode !== "list";
    if (row.rangeBox) row.rangeBox.hidden = mode !== "range";
    if (!mode) return { json: null, count: BigInt(1), problem: "" };
    if (mode === "range") return rangeState(row);
    return row.inputs.checks ? checkedState(row) : listState(row);
  }

  function foldCount() {
    var folds = foldsInput ? Number(foldsInput.value) : NaN;
    return Number.isInteger(folds) && folds >= 1 ? BigInt(folds) : null;
  }

  function refreshGrid() {
    var parts = [];
    var total = BigInt(1);
    var known = true;
    gridRows.forEach(function (row) {
      var state = gridRowState(row);
      var counted = state.json !== null && state.count !== null && !state.problem;
      var count = say(T.row_count, { count: state.count });
      row.note.textContent = state.problem || (state.json === null || !counted ? ""
        : state.preview ? say(T.row_values, { count: count, values: state.preview }) : count);
      row.note.classList.toggle("param-problem", !!state.problem);
      if (state.json === null) return;
      parts.push(JSON.stringify(row.param.name) + ": " + state.json);
      if (counted) total *= state.count;
      else known = false;
    });
    var limit = BigInt(SCHEMA.max_runs);
    var folds = kind() === "walk_forward" ? foldCount() : null;
    var runs = folds === null ? total : total * folds;
    if (!parts.length) grid.summary.textContent = T.nothing_swept;
    else if (!known) grid.summary.textContent = T.unknown_count;
    else if (folds === null) grid.summary.textContent = say(T.total, { count: total, max: SCHEMA.max_runs });
    else grid.summary.textContent = say(T.total_walk_forward, { count: total, folds: folds, runs: runs, max: SCHEMA.max_runs });
    grid.summary.classList.toggle("over-limit", parts.length > 0 && known && runs > limit);
    grid.summary.dataset.configurations = parts.length && known ? String(total) : "";
    var strategy = SCHEMA.strategies[strategySelect.value];
    var rules = strategy && strategy.rules ? strategy.rules : [];
    grid.rules.hidden = !(parts.length && rules.length);
    grid.rules.textContent = grid.rules.hidden ? "" : say(T.rules_skipped, { rules: rules.join("; ") });
    if (!grid.jsonMode) gridArea.value = kind() !== "compare" && parts.length ? "{" + parts.join(", ") + "}" : "";
  }

  // The textarea's JSON into the rows; false when the rows cannot show it.
  function fillGrid(text) {
    buildGridRows();
    var parsed = parseJson(text.trim() || "null");
    if (parsed && parsed.value === null) return true; // empty (an unbound form shows null)
    if (!parsed || !isObject(parsed.value)) return false;
    var rows = {};
    gridRows.forEach(function (row) { rows[row.param.name] = row; });
    return Object.keys(parsed.value).every(function (name) {
      var row = rows[name];
      var entry = parsed.value[name];
      if (!row) return false;
      if (Array.isArray(entry)) {
        row.mode.value = "list";
        if (row.inputs.checks) {
          row.inputs.checks.forEach(function (box) {
            box.checked = entry.some(function (value) { return JSON.stringify(value) === box.value; });
          });
        } else {
          row.inputs.list.value = entry.map(jsonText).join(", ");
        }
        return true;
      }
      if (!isObject(entry) || !row.inputs.start) return false;
      if (Object.keys(entry).some(function (key) { return RANGE_PARTS.indexOf(key) < 0; })) return false;
      row.mode.value = "range";
      RANGE_PARTS.forEach(function (part) {
        row.inputs[part].value = entry[part] === null || entry[part] === undefined ? "" : jsonText(entry[part]);
      });
      return true;
    });
  }

  // --- the variant --------------------------------------------------------------------

  var variant = new Builder(variantArea, "variant-builder");
  var variantRows = [];
  var variantStrategy = make("select", { id: "variant-strategy" });
  var variantRisk = make("select", { id: "variant-risk-profile" });
  variant.inputs.insertBefore(make("p", { className: "param-choices" }, [
    make("span", {}, [make("label", { "for": "variant-strategy", text: T.variant_strategy }), variantStrategy]),
    make("span", {}, [make("label", { "for": "variant-risk-profile", text: T.variant_risk_profile }), variantRisk]),
  ]), variant.table);

  function fillVariantChoices() {
    var chosen = variantStrategy.value;
    var base = strategySelect.value;
    var options = [make("option", { value: "", text: say(T.same_as_a, { strategy: base }) })];
    Object.keys(SCHEMA.strategies).forEach(function (key) {
      if (key !== base) options.push(make("option", { value: key, text: SCHEMA.strategies[key].name + " (" + key + ")" }));
    });
    variantStrategy.replaceChildren.apply(variantStrategy, options);
    variantStrategy.value = chosen !== base && SCHEMA.strategies[chosen] ? chosen : "";

    var risk = variantRisk.value;
    var profiles = [
      make("option", { value: "", text: T.same_risk_profile }),
      make("option", { value: "none", text: T.no_risk_profile }),
    ];
    if (riskSelect) {
      Array.prototype.forEach.call(riskSelect.options, function (option) {
        if (/^\d+$/.test(option.value)) profiles.push(make("option", { value: option.value, text: option.textContent }));
      });
    }
    variantRisk.replaceChildren.apply(variantRisk, profiles);
    variantRisk.value = risk;
    if (variantRisk.value !== risk) variantRisk.value = "";
  }

  // A's parameters as typed in the base run's JSON, for the rows' placeholders.
  function baseParams() {
    var parsed = paramsArea ? parseJson(paramsArea.value || "{}") : null;
    return parsed && isObject(parsed.value) ? parsed.value : {};
  }

  function placeholderOf(param) {
    if (variantStrategy.value) return say(T.keeps_default, { value: jsonText(param.initial) });
    var base = baseParams();
    var value = Object.prototype.hasOwnProperty.call(base, param.name) ? base[param.name] : param.initial;
    return say(T.keeps_a, { value: jsonText(value) });
  }

  function variantRow(param) {
    var id = "variant-param-" + param.name;
    var row = { param: param };
    if (NUMERIC[param.kind]) {
      row.input = make("input", { type: "text", inputmode: "decimal", id: id, "aria-label": param.label + ": " + T.b_value });
    } else {
      row.input = make("select", { id: id, "aria-label": param.label + ": " + T.b_value },
        [make("option", { value: "" })].concat(choicesOf(param).map(function (choice) {
          return make("option", { value: JSON.stringify(choice), text: String(choice) });
        })));
    }
    row.note = make("span", { className: "param-row-note", id: id + "-note" });
    row.tr = make("tr", { "data-param": param.name }, [
      nameCell(param),
      make("td", { className: "param-bounds", text: describe(param) }),
      make("td", {}, [row.input, row.note]),
    ]);
    return row;
  }

  function buildVariantRows() {
    variantRows = parametersOf(variantStrategy.value || strategySelect.value).map(variantRow);
    variant.table.replaceChildren(
      headerRow([T.parameter, T.type_and_bounds, T.b_value]),
      make("tbody", {}, variantRows.map(function (row) { return row.tr; }))
    );
    showPlaceholders();
  }

  function showPlaceholders() {
    variantRows.forEach(function (row) {
      var text = placeholderOf(row.param);
      if (row.input.tagName === "SELECT") row.input.options[0].textContent = text;
      else row.input.placeholder = text;
    });
  }

  function refreshVariant() {
    var parts = [];
    var params = [];
    if (variantStrategy.value) parts.push('"strategy": ' + JSON.stringify(variantStrategy.value));
    variantRows.forEach(function (row) {
      var text = row.input.value.trim();
      var problem = "";
      var piece = text; // a select's values are JSON already
      if (text && row.input.tagName !== "SELECT") {
        var lit = literal(text);
        problem = problemOf(row.param, lit);
        piece = lit === null ? JSON.stringify(text) : lit;
      }
      mark(row.input, problem);
      row.note.textContent = problem;
      row.note.classList.toggle("param-problem", !!problem);
      if (text) params.push(JSON.stringify(row.param.name) + ": " + piece);
    });
    if (params.length) parts.push('"params": {' + params.join(", ") + "}");
    if (variantRisk.value === "none") parts.push('"risk_profile": null');
    else if (variantRisk.value) parts.push('"risk_profile": ' + variantRisk.value); // digits only
    variant.summary.textContent = parts.length ? "" : T.nothing_changed;
    if (!variant.jsonMode) variantArea.value = kind() === "compare" && parts.length ? "{" + parts.join(", ") + "}" : "";
  }

  function fillVariant(text) {
    variantStrategy.value = "";
    variantRisk.value = "";
    buildVariantRows();
    var parsed = parseJson(text.trim() || "null");
    if (parsed && parsed.value === null) return true;
    var value = parsed && parsed.value;
    if (!isObject(value)) return false;
    var allowed = ["strategy", "params", "risk_profile"];
    if (Object.keys(value).some(function (key) { return allowed.indexOf(key) < 0; })) return false;
    if ("strategy" in value) {
      if (!SCHEMA.strategies[value.strategy]) return false;
      variantStrategy.value = value.strategy === strategySelect.value ? "" : value.strategy;
      buildVariantRows();
    }
    if ("risk_profile" in value) {
      variantRisk.value = value.risk_profile === null ? "none" : String(value.risk_profile);
      if (variantRisk.value !== (value.risk_profile === null ? "none" : String(value.risk_profile))) return false;
    }
    if (!("params" in value)) return true;
    if (!isObject(value.params)) return false;
    var rows = {};
    variantRows.forEach(function (row) { rows[row.param.name] = row; });
    return Object.keys(value.params).every(function (name) {
      var row = rows[name];
      if (!row) return false;
      var entry = value.params[name];
      row.input.value = row.input.tagName === "SELECT" ? JSON.stringify(entry) : jsonText(entry);
      return row.input.value !== "";
    });
  }

  // --- the kind, the strategy, the page -------------------------------------------------

  function kind() {
    return kindSelect ? kindSelect.value : "sweep";
  }

  // Only the chosen kind's fields are shown (their JSON is written only for it).
  function showKind() {
    var sections = {
      grid: gridArea.closest("fieldset"),
      walkForward: foldsInput ? foldsInput.closest("fieldset") : null,
      variant: variantArea.closest("fieldset"),
    };
    var current = kind();
    var shown = { grid: current !== "compare", walkForward: current === "walk_forward", variant: current === "compare" };
    Object.keys(sections).forEach(function (name) {
      if (sections[name]) sections[name].classList.toggle("batch-kind-off", !shown[name]);
    });
  }

  function refresh() {
    refreshGrid();
    refreshVariant();
  }

  function startBuilder(builder, fill, rows, pattern) {
    var filled = fill(builder.area.value);
    builder.showJson(!filled, filled ? "" : T.json_unreadable);
    builder.markServerErrors(rows(), pattern);
    builder.toggle.addEventListener("click", function () {
      if (!builder.jsonMode) {
        builder.showJson(true, "");
        return;
      }
      var back = fill(builder.area.value);
      builder.showJson(!back, back ? "" : T.json_unreadable);
      refresh();
    });
  }

  fillVariantChoices();
  startBuilder(grid, fillGrid, function () { return gridRows; }, /^grid\.(\w+)/);
  startBuilder(variant, fillVariant, function () { return variantRows; }, /^variant\.params\.(\w+)/);
  showKind();
  refresh();

  grid.box.addEventListener("input", refreshGrid);
  grid.box.addEventListener("change", refreshGrid);
  variant.box.addEventListener("input", refreshVariant);
  variant.box.addEventListener("change", function (event) {
    if (event.target === variantStrategy) buildVariantRows();
    refreshVariant();
  });
  strategySelect.addEventListener("change", function () {
    // Another strategy: other parameters, so the rows start again.
    buildGridRows();
    fillVariantChoices();
    buildVariantRows();
    refresh();
  });
  if (kindSelect) {
    kindSelect.addEventListener("change", function () {
      showKind();
      refresh();
    });
  }
  if (foldsInput) foldsInput.addEventListener("input", refreshGrid);
  if (paramsArea) paramsArea.addEventListener("input", showPlaceholders);
  gridArea.form.addEventListener("submit", refresh);
})();
