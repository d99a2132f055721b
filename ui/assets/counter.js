// Kiosk script for the counter's other jobs: in-store returns, the shelf
// (cancel a deposit, hand parcels to the carrier, the manifest), the history
// and the day's summary. It uses $, api, t and the formatters of app.js and
// i18n.js.
"use strict";

function cell(text) {
  const td = document.createElement("td");
  td.textContent = text;
  return td;
}

function select(prefix, values, value, label) {
  const s = document.createElement("select");
  s.setAttribute("aria-label", label);
  for (const v of values) {
    const o = document.createElement("option");
    o.value = v; o.textContent = t(prefix + v); o.selected = v === value;
    s.append(o);
  }
  return s;
}

let currentView = "desk";

function showView(name) {
  currentView = name;
  if (name !== "desk" && typeof cameraStop === "function") cameraStop();
  document.querySelectorAll(".view").forEach((v) => { v.hidden = v.id !== name; });
  $("desk").hidden = name !== "desk";
  document.querySelectorAll("#views button").forEach((b) => {
    if (b.dataset.view === name) b.setAttribute("aria-current", "page"); else b.removeAttribute("aria-current");
  });
  if (name === "shelf") loadShelf();
  if (name === "history") loadHistory();
  if (name === "day") loadDay();
  if (name === "month") loadMonth();
  if (name === "instore") $("instore-code").focus();
  if (name === "desk") $("code").focus();
}

document.querySelectorAll("#views button").forEach((b) => {
  b.addEventListener("click", () => showView(b.dataset.view));
});

i18n.onChange.push(() => {
  if (document.body.dataset.locked) return;
  if (currentView === "shelf") loadShelf();
  if (currentView === "history") loadHistory();
  if (currentView === "day") loadDay();
  if (currentView === "month") loadMonth();
  if (instoreRA) showInstore(instoreRA);
  showScanned();
});

// In-store returns: scan, grade each item of the RA, choose the resolution.
let instoreCode = null, instoreRA = null;
const conditions = ["NEW", "OPENED", "DAMAGED", "DEFECTIVE"];
const dispositions = ["RESTOCK", "REFURBISH", "RECYCLE", "RETURN_TO_VENDOR", "DESTROY"];

$("instore-scan").addEventListener("submit", async (e) => {
  e.preventDefault();
  const text = $("instore-code").value.trim();
  $("instore-form").hidden = true; $("instore-msg").textContent = ""; instoreRA = null;
  if (!text) { $("instore-msg").textContent = t("err_CODE_MISSING"); return; }
  const r = await api("POST", "/api/scan", { code: text });
  if (!r.ok) { $("instore-msg").textContent = t("refused", { why: errorText(r.data.error) }); return; }
  const ra = r.data.code && r.data.code.ra;
  if (!ra) {
    $("instore-msg").textContent = t("refused", { why: r.data.refusals.length ? explain(r.data.refusals) : t("err_RA_REQUIRED") });
    return;
  }
  instoreCode = text;
  showInstore(ra);
  $("instore-form").hidden = false;
  $("instore-items").querySelector("input").focus();
});

function showInstore(ra) {
  instoreRA = ra;
  const body = $("instore-items");
  const old = new Map([...body.children].map((tr) => [tr.dataset.sku, tr]));
  body.replaceChildren();
  for (const it of ra.items) {
    const was = old.get(it.sku);
    const tr = document.createElement("tr");
    tr.dataset.sku = it.sku;
    const name = (it.name || it.sku) + " (" + it.sku + ")";
    tr.append(cell(name));
    const qty = document.createElement("input");
    qty.type = "number"; qty.min = "0"; qty.max = String(it.qty);
    qty.value = was ? was.querySelector(".qty").value : String(it.qty);
    qty.className = "qty"; qty.setAttribute("aria-label", t("qty_of", { item: name }));
    const td = document.createElement("td"); td.append(qty); tr.append(td);
    const cond = select("cond_", conditions, was ? was.querySelector(".condition").value : "NEW", t("condition_of", { item: name }));
    cond.className = "condition";
    const disp = select("disp_", dispositions, was ? was.querySelector(".disposition").value : "RESTOCK", t("disposition_of", { item: name }));
    disp.className = "disposition";
    for (const s of [cond, disp]) { const c = document.createElement("td"); c.append(s); tr.append(c); }
    body.append(tr);
  }
}

$("instore-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const items = [];
  for (const tr of $("instore-items").children) {
    const qty = Number(tr.querySelector(".qty").value);
    if (qty > 0) {
      items.push({ sku: tr.dataset.sku, qty, condition: tr.querySelector(".condition").value, disposition: tr.querySelector(".disposition").value });
    }
  }
  const r = await api("POST", "/api/instore-returns", { code: instoreCode, items, resolution: $("resolution").value });
  if (!r.ok) { $("instore-msg").textContent = t("refused", { why: errorText(r.data.error) }); return; }
  $("instore-form").hidden = true; $("instore-code").value = ""; instoreRA = null;
  $("instore-msg").textContent = t("instore_saved", { tracking: r.data.instore_return.tracking });
});

// The shelf: parcels waiting for the carrier, cancel, hand over.
async function loadShelf() {
  const r = await api("GET", "/api/shelf");
  if (!r.ok) { $("shelf-msg").textContent = errorText(r.data.error); return; }
  const v = r.data;
  let state = tn("shelf_count", v.total, { cap: fmtNumber(v.capacity) });
  if (v.state !== "ok") state += " — " + t("shelf_" + v.state);
  if (v.overdue) state += " — " + t("shelf_overdue", { n: fmtNumber(v.overdue) });
  $("shelf-state").textContent = state;
  $("shelf-state").className = v.state === "ok" && !v.overdue ? "" : "warning";
  const carriers = $("shelf-carriers");
  carriers.replaceChildren();
  for (const [carrier, n] of Object.entries(v.carriers).sort()) {
    const b = document.createElement("button");
    b.type = "button"; b.className = "handover danger"; b.dataset.carrier = carrier;
    b.textContent = tn("handover_all", n, { carrier });
    b.addEventListener("click", async () => {
      if (await confirmDanger(tn("confirm_handover", n, { carrier }), tn("handover_all", n, { carrier }))) handover({ carrier, all: true });
    });
    carriers.append(b);
  }
  const body = $("shelf-parcels");
  body.replaceChildren();
  for (const p of v.parcels) {
    const tr = document.createElement("tr");
    if (p.overdue) tr.className = "overdue";
    tr.append(cell(p.slot), cell(p.tracking), cell(p.carrier),
      cell(fmtAge(p.age_s) + (p.overdue ? " — " + t("overdue") : "")));
    const b = document.createElement("button");
    b.type = "button"; b.className = "cancel danger";
    const sr = document.createElement("span");
    sr.className = "sr"; sr.textContent = " " + p.tracking;
    b.append(t("cancel"), sr); // named "Annuler XY123…": its text first
    b.addEventListener("click", async () => {
      if (await confirmDanger(t("confirm_cancel", { tracking: p.tracking }), t("cancel_deposit"))) cancelDeposit(p);
    });
    const td = document.createElement("td"); td.append(b); tr.append(td);
    body.append(tr);
  }
}

async function cancelDeposit(p) {
  const r = await api("POST", "/api/deposits/" + encodeURIComponent(p.deposit_id) + "/cancel", { reason: "" });
  $("shelf-msg").textContent = r.ok ? t("cancelled", { tracking: p.tracking }) : t("refused", { why: errorText(r.data.error) });
  $("shelf-msg").className = r.ok ? "cancelled" : "refused";
  await loadShelf();
  showMessage("shelf-msg");
}

// showMessage brings the outcome of an action into view.
function showMessage(id) {
  $(id).scrollIntoView({ block: "nearest" });
}

// A handover closes a manifest per carrier, printed on the receipt printer.
let lastManifest = null;

async function handover(body) {
  const r = await api("POST", "/api/handovers", body);
  if (r.ok) {
    const ms = r.data.manifests;
    $("shelf-msg").textContent = ms.map((m) => tn("handed_over", m.count, { carrier: m.carrier, id: m.id.slice(0, 8) }) +
      (m.print_error ? " " + t("manifest_not_printed") : " " + t("manifest_printed"))).join(" ");
    $("shelf-msg").className = "ok";
    lastManifest = ms.find((m) => m.print_job) || null;
    $("manifest").hidden = !lastManifest;
    $("manifest-box").open = false; $("manifest-img").removeAttribute("src");
  } else {
    $("shelf-msg").textContent = t("refused", { why: errorText(r.data.error) });
    $("shelf-msg").className = "refused";
  }
  await loadShelf();
  showMessage("shelf-msg");
  return r.ok;
}

$("manifest-box").addEventListener("toggle", () => {
  if ($("manifest-box").open && lastManifest) $("manifest-img").src = "/api/print-jobs/" + encodeURIComponent(lastManifest.print_job) + "/preview.png";
});

$("manifest-reprint").addEventListener("click", async () => {
  if (lastManifest) $("shelf-msg").textContent = await reprint(lastManifest.print_job);
});

// Handover of the parcels the driver takes, scanned one by one.
let scanned = [];

function showScanned() {
  $("handover-list").textContent = scanned.length ? t("scanned", { n: fmtNumber(scanned.length), list: scanned.join(", ") }) : "";
  $("handover-send").disabled = scanned.length === 0;
}

$("handover-scan").addEventListener("submit", (e) => {
  e.preventDefault();
  const v = $("handover-code").value.trim();
  if (v && !scanned.includes(v)) scanned.push(v);
  $("handover-code").value = "";
  showScanned();
});

$("handover-send").addEventListener("click", async () => {
  if (await handover({ trackings: scanned })) { scanned = []; showScanned(); }
});

// The history of today's operations, newest first.
async function loadHistory() {
  const day = new Date().toLocaleDateString("sv"); // YYYY-MM-DD, local
  // Pages come oldest first: read them all (a day is a few thousand at most).
  let all = [], after = 0;
  for (let page = 0; page < 20; page++) {
    const r = await api("GET", "/api/operations?limit=1000&day=" + day + "&after=" + after);
    if (!r.ok) { $("history-msg").textContent = errorText(r.data.error); return; }
    all = all.concat(r.data.operations);
    if (!r.data.next) break;
    after = r.data.next;
  }
  const ops = all.slice(-300).reverse(); // the newest 300 on screen
  const body = $("history-ops");
  body.replaceChildren();
  for (const op of ops) {
    const tr = document.createElement("tr");
    const label = tOr("op_" + op.type, "op_other");
    tr.append(cell(fmtTime(op.occurred_at)), cell(label), cell(op.tracking || ""));
    body.append(tr);
  }
  $("history-msg").textContent = ops.length ? "" : t("history_empty");
}

// fillList shows rows of [term, value] in the description list dl.
function fillList(dl, rows) {
  dl.replaceChildren();
  for (const [k, v] of rows) {
    const dt = document.createElement("dt"); dt.textContent = k;
    const dd = document.createElement("dd"); dd.textContent = v;
    dl.append(dt, dd);
  }
}

// The day's summary, and closing the day (manager).
async function loadDay() {
  const r = await api("GET", "/api/summary");
  if (!r.ok) { $("day-msg").textContent = errorText(r.data.error); return; }
  const s = r.data;
  $("day-summary").dataset.day = s.day;
  const rows = [[t("sum_day"), fmtDay(s.day)], [t("sum_deposits"), fmtNumber(s.deposits)], [t("sum_cancelled"), fmtNumber(s.cancelled)],
    [t("sum_handed_over"), fmtNumber(s.handed_over)], [t("sum_manifests"), fmtNumber(s.manifests)], [t("sum_instore"), fmtNumber(s.instore_returns)]];
  for (const [reason, n] of Object.entries(s.refusals || {})) rows.push([t("sum_refused", { why: explain([reason]) }), fmtNumber(n)]);
  for (const [res, n] of Object.entries(s.resolutions || {})) rows.push([t("sum_instore") + " — " + t("res_" + res), fmtNumber(n)]);
  fillList($("day-summary"), rows);
  $("day-close").hidden = document.body.dataset.role !== "manager";
}

$("day-close").addEventListener("click", async () => {
  const day = $("day-summary").dataset.day;
  if (!await confirmDanger(t("confirm_day_close", { day: fmtDay(day) }), t("day_close"))) return;
  const r = await api("POST", "/api/days/" + encodeURIComponent(day) + "/close");
  $("day-msg").textContent = r.ok ? t("day_closed") : t("refused", { why: errorText(r.data.error) });
  $("day-msg").className = r.ok ? "ok" : "refused";
  showMessage("day-msg");
});

// The relay point's statement of the month: what it is paid for, to print
// for the shopkeeper's accounts.
async function loadMonth() {
  const r = await api("GET", "/api/statement");
  if (!r.ok) { $("month-msg").textContent = errorText(r.data.error); return; }
  const s = r.data;
  const rows = [[t("sum_month"), fmtMonth(s.month)], [t("sum_deposits"), fmtNumber(s.deposits)], [t("sum_instore"), fmtNumber(s.instore_returns)],
    [t("sum_cancelled"), fmtNumber(s.cancelled)], [t("month_paid"), fmtNumber(s.paid_parcels)], [t("sum_handed_over"), fmtNumber(s.handed_over)]];
  for (const [reason, n] of Object.entries(s.refusals || {})) rows.push([t("sum_refused", { why: explain([reason]) }), fmtNumber(n)]);
  fillList($("month-statement"), rows);
}

$("day-month").addEventListener("click", () => showView("month"));
$("month-print").addEventListener("click", () => window.print());
