// Kiosk script for the counter's other jobs: in-store returns, the shelf
// (cancel a deposit, hand parcels to the carrier) and the day's summary.
// It uses $ and api() of app.js.
"use strict";

const counterMessages = {
  ITEM_NOT_IN_RA: "Cet article n'est pas dans le retour autorisé.",
  QTY_ABOVE_RA: "Plus d'articles que le retour n'en autorise.",
  RA_REQUIRED: "Il faut le code de retour du client, pas un numéro de suivi.",
  ALREADY_CANCELLED: "Dépôt déjà annulé.",
  ALREADY_HANDED_OVER: "Colis déjà remis au transporteur.",
  NOT_ON_SHELF: "Colis absent de l'étagère.",
  WRONG_CARRIER: "Colis d'un autre transporteur.",
  FORBIDDEN: "Réservé au gérant.",
};

function errorText(err) {
  if (err.refusals && typeof explain === "function") return explain(err.refusals);
  return counterMessages[err.code] || err.message;
}

function cell(text) {
  const td = document.createElement("td");
  td.textContent = text;
  return td;
}

function select(options, value) {
  const s = document.createElement("select");
  for (const [v, label] of options) {
    const o = document.createElement("option");
    o.value = v; o.textContent = label; o.selected = v === value;
    s.append(o);
  }
  return s;
}

function showView(name) {
  document.querySelectorAll(".view").forEach((v) => { v.hidden = v.id !== name; });
  $("desk").hidden = name !== "desk";
  document.querySelectorAll("#views button").forEach((b) => {
    if (b.dataset.view === name) b.setAttribute("aria-current", "page"); else b.removeAttribute("aria-current");
  });
  if (name === "shelf") loadShelf();
  if (name === "day") loadDay();
  if (name === "instore") $("instore-code").focus();
}

document.querySelectorAll("#views button").forEach((b) => {
  b.addEventListener("click", () => showView(b.dataset.view));
});

// In-store returns: scan, grade each item of the RA, choose the resolution.
let instoreCode = null;

$("instore-scan").addEventListener("submit", async (e) => {
  e.preventDefault();
  const text = $("instore-code").value.trim();
  $("instore-form").hidden = true; $("instore-msg").textContent = "";
  const r = await api("POST", "/api/scan", { code: text });
  if (!r.ok) { $("instore-msg").textContent = errorText(r.data.error); return; }
  const ra = r.data.code && r.data.code.ra;
  if (!ra) {
    $("instore-msg").textContent = r.data.refusals.length ? explain(r.data.refusals) : counterMessages.RA_REQUIRED;
    return;
  }
  instoreCode = text;
  const body = $("instore-items");
  body.replaceChildren();
  for (const it of ra.items) {
    const tr = document.createElement("tr");
    tr.dataset.sku = it.sku;
    tr.append(cell((it.name || it.sku) + " (" + it.sku + ")"));
    const qty = document.createElement("input");
    qty.type = "number"; qty.min = "0"; qty.max = String(it.qty); qty.value = String(it.qty);
    qty.className = "qty";
    const td = document.createElement("td"); td.append(qty); tr.append(td);
    const cond = select([["NEW", "Neuf"], ["OPENED", "Ouvert"], ["DAMAGED", "Abîmé"], ["DEFECTIVE", "Défectueux"]], "NEW");
    cond.className = "condition";
    const disp = select([["RESTOCK", "Remise en rayon"], ["REFURBISH", "Reconditionnement"], ["RECYCLE", "Recyclage"],
      ["RETURN_TO_VENDOR", "Retour fournisseur"], ["DESTROY", "Destruction"]], "RESTOCK");
    disp.className = "disposition";
    for (const s of [cond, disp]) { const c = document.createElement("td"); c.append(s); tr.append(c); }
    body.append(tr);
  }
  $("instore-form").hidden = false;
});

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
  if (!r.ok) { $("instore-msg").textContent = "Refusé : " + errorText(r.data.error); return; }
  $("instore-form").hidden = true; $("instore-code").value = "";
  $("instore-msg").textContent = "Retour enregistré : " + r.data.instore_return.tracking;
});

// The shelf: parcels waiting for the carrier, cancel, hand over.
function age(s) {
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
  return h ? h + " h " + m + " min" : m + " min";
}

async function loadShelf() {
  const r = await api("GET", "/api/shelf");
  if (!r.ok) { $("shelf-msg").textContent = errorText(r.data.error); return; }
  const v = r.data;
  const states = { ok: "", warning: " — presque pleine", full: " — pleine : dépôts refusés" };
  $("shelf-state").textContent = v.total + " / " + v.capacity + " colis" + states[v.state] + (v.overdue ? " — " + v.overdue + " en retard" : "");
  $("shelf-state").className = v.state === "ok" ? "" : "warning";
  const carriers = $("shelf-carriers");
  carriers.replaceChildren();
  for (const [carrier, n] of Object.entries(v.carriers).sort()) {
    const b = document.createElement("button");
    b.type = "button"; b.className = "handover"; b.dataset.carrier = carrier;
    b.textContent = "Remettre " + n + " colis à " + carrier;
    b.addEventListener("click", () => handover(carrier));
    carriers.append(b);
  }
  const body = $("shelf-parcels");
  body.replaceChildren();
  for (const p of v.parcels) {
    const tr = document.createElement("tr");
    if (p.overdue) tr.className = "overdue";
    tr.append(cell(p.slot), cell(p.tracking), cell(p.carrier), cell(age(p.age_s)));
    const b = document.createElement("button");
    b.type = "button"; b.className = "cancel"; b.textContent = "Annuler";
    b.addEventListener("click", () => cancelDeposit(p));
    const td = document.createElement("td"); td.append(b); tr.append(td);
    body.append(tr);
  }
}

async function cancelDeposit(p) {
  const r = await api("POST", "/api/deposits/" + encodeURIComponent(p.deposit_id) + "/cancel", { reason: "" });
  $("shelf-msg").textContent = r.ok ? "Dépôt " + p.tracking + " annulé." : "Refusé : " + errorText(r.data.error);
  loadShelf();
}

async function handover(carrier) {
  const r = await api("POST", "/api/handovers", { carrier, all: true });
  if (r.ok) {
    const m = r.data.manifests[0];
    $("shelf-msg").textContent = m.count + " colis remis à " + m.carrier + " (bordereau " + m.id.slice(0, 8) + ").";
  } else {
    $("shelf-msg").textContent = "Refusé : " + errorText(r.data.error);
  }
  loadShelf();
}

// Handover of the parcels the driver takes, scanned one by one.
let scanned = [];

function showScanned() {
  $("handover-list").textContent = scanned.length ? scanned.length + " scanné(s) : " + scanned.join(", ") : "";
  $("handover-send").disabled = scanned.length === 0;
}

$("handover-scan").addEventListener("submit", (e) => {
  e.preventDefault();
  const t = $("handover-code").value.trim();
  if (t && !scanned.includes(t)) scanned.push(t);
  $("handover-code").value = "";
  showScanned();
});

$("handover-send").addEventListener("click", async () => {
  const r = await api("POST", "/api/handovers", { trackings: scanned });
  if (r.ok) {
    const m = r.data.manifests[0];
    $("shelf-msg").textContent = m.count + " colis remis à " + m.carrier + " (bordereau " + m.id.slice(0, 8) + ").";
    scanned = [];
    showScanned();
  } else {
    $("shelf-msg").textContent = "Refusé : " + errorText(r.data.error);
  }
  loadShelf();
});

// The day's summary, and closing the day (manager).
async function loadDay() {
  const r = await api("GET", "/api/summary");
  if (!r.ok) { $("day-msg").textContent = errorText(r.data.error); return; }
  const s = r.data;
  const rows = [["Jour", s.day], ["Dépôts", s.deposits], ["Annulés", s.cancelled], ["Remis au transporteur", s.handed_over],
    ["Bordereaux", s.manifests], ["Retours magasin", s.instore_returns]];
  for (const [reason, n] of Object.entries(s.refusals)) rows.push(["Refus " + reason, n]);
  const dl = $("day-summary");
  dl.replaceChildren();
  for (const [k, v] of rows) {
    const dt = document.createElement("dt"); dt.textContent = k;
    const dd = document.createElement("dd"); dd.textContent = String(v);
    dl.append(dt, dd);
  }
  $("day-close").hidden = document.body.dataset.role !== "manager";
}

$("day-close").addEventListener("click", async () => {
  const r = await api("POST", "/api/days/" + $("day-summary").querySelector("dd").textContent + "/close");
  $("day-msg").textContent = r.ok ? "Journée clôturée." : "Refusé : " + errorText(r.data.error);
});
