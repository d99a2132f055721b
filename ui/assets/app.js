// Kiosk script: sign in, lock when idle, scan (HID scanner, typed, camera or
// photo), deposit, show the receipt QR and previews, reprint, cancel; the
// status bar. Plain JavaScript, no build step, nothing loaded from outside.
// Strings come from i18n.js (t) and its catalogs.
"use strict";

const $ = (id) => document.getElementById(id);

// What the Content-Security-Policy blocked, for the browser tests (none).
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.cspViolations.push(e.violatedDirective + " " + e.blockedURI);
});

let kiosk = { idle_s: 900, max_weight_g: 0, cancel_grace_s: 0 };
let current = null; // the last eligible code text
let lastCheck = null; // the last answer shown, to redraw it in another language
let lastDeposit = null;

async function api(method, path, body, type) {
  // Every request that changes something says it is JSON (the API takes
  // nothing else), except an image sent as it is.
  const opts = { method, headers: {}, credentials: "same-origin" };
  if (method !== "GET") opts.headers["Content-Type"] = type || "application/json";
  if (body !== undefined) opts.body = type ? body : JSON.stringify(body);
  const res = await fetch(path, opts);
  let data = {};
  if (res.status !== 204) {
    data = await res.json().catch(() => ({ error: { code: "BAD_ANSWER", message: t("err_BAD_ANSWER") } }));
  }
  if (res.status === 401 && path !== "/api/session") { lock(); }
  return { ok: res.ok, status: res.status, data };
}

// explain turns refusal codes into plain sentences of the catalog (a code
// it does not know into a plain one, never the code itself).
function explain(codes) {
  return codes.map((c) => tOr("refusal_" + c, "refusal_other")).join(" ");
}

// errorText is the clerk's sentence for an API error. The server's own
// message is in English and for the logs: the clerk gets the catalog's.
function errorText(err) {
  if (!err) return t("err_other");
  if (err.refusals && err.refusals.length) return explain(err.refusals);
  if (i18n.cat["err_" + err.code] === undefined) console.warn("no sentence for error", err.code, err.message);
  return tOr("err_" + err.code, "err_other");
}

function lock() {
  if (typeof cameraStop === "function") cameraStop();
  document.querySelectorAll(".view").forEach((v) => { v.hidden = true; });
  $("views").hidden = true;
  $("desk").hidden = true; $("login").hidden = false; $("logout").hidden = true;
  $("who").textContent = ""; $("pin").value = ""; $("pin").focus();
  if ($("confirm").open) $("confirm").close();
  for (const id of ["net", "backlog", "printers", "disk", "journal"]) $(id).textContent = "";
  $("net").className = "";
  document.body.dataset.locked = "1";
}

function unlock(staff, k) {
  if (k) kiosk = k;
  delete document.body.dataset.locked;
  $("login").hidden = true; $("logout").hidden = false;
  $("views").hidden = false; document.body.dataset.role = staff.role;
  $("who").textContent = staff.name;
  showView("desk");
  reset();
  status();
}

// The screen locks itself after the session's idle time without a touch or
// a key, as the server forgets the session then too.
let lastActivity = Date.now();
for (const ev of ["pointerdown", "keydown", "touchstart"]) {
  document.addEventListener(ev, () => { lastActivity = Date.now(); }, { capture: true, passive: true });
}
setInterval(async () => {
  if (document.body.dataset.locked || Date.now() - lastActivity < kiosk.idle_s * 1000) return;
  await api("DELETE", "/api/session").catch(() => null);
  lock();
}, 1000);

function reset() {
  if (typeof scaleStop === "function") scaleStop();
  current = null; lastCheck = null; lastDeposit = null;
  $("check").replaceChildren(); $("deposit-form").hidden = true; $("result").hidden = true;
  $("code").value = ""; $("weight").value = ""; $("r-msg").textContent = ""; $("weight-msg").textContent = "";
  $("r-qr").removeAttribute("src");
  $("image-form").hidden = false; $("desk-hint").hidden = false;
  $("code").focus();
}

// weightLimit is the rules' maximum, or the RA's when it is lower.
function weightLimit(code) {
  let max = kiosk.max_weight_g;
  if (code && code.ra && code.ra.max_g > 0 && (!max || code.ra.max_g < max)) max = code.ra.max_g;
  return max;
}

function showCheck(a, text) {
  lastCheck = { a, text };
  const p = document.createElement("p");
  p.id = "verdict";
  if (a.eligible) {
    current = text;
    p.className = "ok";
    p.textContent = t(a.code.verified ? "eligible_verified" : "eligible_unverified", { tracking: a.code.tracking || "" });
    const max = weightLimit(a.code);
    $("limit").textContent = max ? t("weight_max", { max: fmtWeight(max) }) : "";
    $("weight").dataset.max = max ? String(max) : "";
    $("weight-msg").textContent = "";
  } else {
    current = null;
    p.className = "refused";
    p.textContent = t("refused", { why: explain(a.refusals) });
  }
  $("check").replaceChildren(p);
  const items = (a.code && a.code.ra && a.code.ra.items) || [];
  if (items.length) $("check").append(itemList(items));
  $("deposit-form").hidden = !a.eligible;
  if (a.eligible) { $("weight").focus(); scaleWatch(); } else { if (typeof scaleStop === "function") scaleStop(); $("code").value = text; $("code").select(); }
}

// itemList lists what the return holds, for the clerk to compare with the
// parcel: name, quantity and reason of each item.
function itemList(items) {
  const ul = document.createElement("ul");
  ul.id = "items";
  ul.setAttribute("aria-label", t("items_label"));
  for (const it of items) {
    const li = document.createElement("li");
    li.textContent = t("item_line", { name: it.name || it.sku, qty: fmtNumber(it.qty), reason: tOr("reason_" + it.reason, "reason_OTHER") });
    ul.append(li);
  }
  return ul;
}

async function checkCode(text) {
  const r = await api("POST", "/api/scan", { code: text });
  if (r.ok) showCheck(r.data, text);
  else showError(r.data.error);
}

function showError(err) {
  const p = document.createElement("p");
  p.id = "verdict"; p.className = "refused";
  p.textContent = t("refused", { why: errorText(err) });
  $("check").replaceChildren(p);
}

$("login-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  if (!$("pin").value) { $("login-error").textContent = t("pin_missing"); return; }
  const r = await api("POST", "/api/session", { pin: $("pin").value });
  $("pin").value = "";
  if (r.ok) { $("login-error").textContent = ""; unlock(r.data.staff, r.data.kiosk); }
  else { $("login-error").textContent = errorText(r.data.error); }
});

$("logout").addEventListener("click", async () => { await api("DELETE", "/api/session"); lock(); });

$("scan-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const text = $("code").value.trim();
  if (!text) { showError({ code: "CODE_MISSING" }); return; }
  $("result").hidden = true; lastDeposit = null; $("r-qr").removeAttribute("src");
  $("image-form").hidden = false; $("desk-hint").hidden = false;
  await checkCode(text);
});

$("frame").addEventListener("change", async () => {
  const f = $("frame").files[0];
  if (!f) return;
  const r = await api("POST", "/api/scan/image", await f.arrayBuffer(), f.type || "application/octet-stream");
  $("frame").value = "";
  if (r.ok) showCheck(r.data, r.data.text || "");
  else showError(r.data.error);
});

$("deposit-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  if (!current) return;
  const w = parseWeight($("weight").value), max = Number($("weight").dataset.max || 0);
  // A weight that cannot be right is asked again, where the clerk looks.
  const again = (msg) => { $("weight-msg").textContent = msg; $("weight").focus(); $("weight").select(); };
  if (w.error) { again(t(w.error)); return; }
  if (max && w.g > max) { // the Desk would refuse it too: say so at once
    let msg = t("refused", { why: explain(["OVERWEIGHT"]) }) + " (" + t("weight_max", { max: fmtWeight(max) }) + ")";
    if (w.unitless && w.n >= 100) msg += " " + t("weight_grams_hint", { n: fmtNumber(w.n) });
    again(msg);
    return;
  }
  $("weight-msg").textContent = "";
  const r = await api("POST", "/api/deposits", { code: current, weight_g: w.g });
  if (!r.ok) { showError(r.data.error); return; }
  lastDeposit = r.data;
  $("deposit-form").hidden = true;
  $("check").replaceChildren();
  showDeposit(r.data.deposit);
  showReceiptQR(r.data.receipt.png_url);
  $("r-msg").textContent = "";
  // Previews are drawn on request: fetch them only when opened.
  const label = r.data.label;
  $("r-label-box").hidden = !label; $("r-label-box").open = false; $("r-label").removeAttribute("src");
  $("r-receipt-box").open = false; $("r-receipt").removeAttribute("src");
  $("r-receipt-box").ontoggle = () => { if ($("r-receipt-box").open) $("r-receipt").src = r.data.receipt.preview_url; };
  $("r-reprint-label").hidden = !label;
  if (label) {
    $("r-label-box").ontoggle = () => { if ($("r-label-box").open) $("r-label").src = label.png_url; };
    $("r-label-pdf").href = label.pdf_url;
  }
  $("r-cancel").hidden = false;
  $("image-form").hidden = true; $("desk-hint").hidden = true;
  $("result").hidden = false;
  // Ready for the next customer: the scanner's next code goes to the code
  // field (see the keydown handler) and starts the next deposit.
  $("code").value = "";
  $("next").focus({ preventScroll: true });
});

// showDeposit says what was deposited: tracking, shelf slot, weight.
function showDeposit(d) {
  $("r-title").textContent = t("deposited", { tracking: d.tracking });
  $("r-facts").textContent = t("deposit_facts", { slot: d.shelf_slot, weight: fmtWeightExact(d.weight_g) });
}

// showReceiptQR draws the receipt's QR at a whole number of screen pixels
// per module (3 on a small screen, 4 above), so that a phone, or a
// screenshot read by a scanner, sees sharp modules. The PNG has one pixel
// per module.
function showReceiptQR(url) {
  const img = $("r-qr");
  img.onload = () => {
    const px = window.innerWidth <= 900 ? 3 : 4;
    img.style.width = img.style.height = img.naturalWidth * px + "px";
    // The whole receipt in view (under the status bar where it stays).
    const bar = getComputedStyle($("statusbar")).position === "sticky" ? $("statusbar").offsetHeight : 0;
    const top = $("result").getBoundingClientRect().top + window.scrollY - bar - 4;
    window.scrollTo(0, Math.max(0, top));
  };
  img.src = url;
}

$("next").addEventListener("click", reset);

async function reprint(jobId) {
  const r = await api("POST", "/api/print-jobs/" + encodeURIComponent(jobId) + "/retry");
  return r.ok ? t("reprint_queued") : t("refused", { why: errorText(r.data.error) });
}

$("r-reprint-receipt").addEventListener("click", async () => {
  if (lastDeposit) $("r-msg").textContent = await reprint(lastDeposit.receipt.job_id);
});
$("r-reprint-label").addEventListener("click", async () => {
  if (lastDeposit && lastDeposit.label) $("r-msg").textContent = await reprint(lastDeposit.label.job_id);
});
$("r-cancel").addEventListener("click", async () => {
  if (!lastDeposit) return;
  const d = lastDeposit.deposit;
  if (!await confirmDanger(t("confirm_cancel", { tracking: d.tracking }), t("cancel_deposit"))) return;
  const r = await api("POST", "/api/deposits/" + encodeURIComponent(d.id) + "/cancel", { reason: "" });
  if (!r.ok) {
    $("r-msg").textContent = t("refused", { why: errorText(r.data.error) });
    $("r-msg").scrollIntoView({ block: "nearest" });
    return;
  }
  // The receipt is void: its QR leaves the screen with the rest of the
  // deposit, and the outcome takes the top of the screen.
  reset();
  const p = document.createElement("p");
  p.id = "verdict"; p.className = "cancelled";
  p.textContent = t("cancelled", { tracking: d.tracking });
  $("check").replaceChildren(p);
  window.scrollTo(0, 0);
});

// A handheld scanner types the code and Enter into whatever has focus: on
// the drop-off screen, keystrokes that land outside a field go to the code
// field, so the clerk never taps it first.
document.addEventListener("keydown", (e) => {
  if ($("desk").hidden || $("confirm").open || e.ctrlKey || e.metaKey || e.altKey) return;
  const tgt = e.target;
  // A code scanned while the weight waits (a letter first: codes start
  // with one) is the next parcel's, not a weight; a letter after digits is
  // a unit ("850 g").
  if (tgt === $("weight") && e.key.length === 1 && !/[0-9.,\s]/.test(e.key) && !/\d/.test($("weight").value)) {
    $("code").value = ""; $("code").focus(); return;
  }
  if (tgt instanceof HTMLInputElement || tgt instanceof HTMLSelectElement || tgt instanceof HTMLTextAreaElement) return;
  if (e.key.length === 1) { $("code").value = ""; $("code").focus(); }
});

async function status() {
  if (document.body.dataset.locked) return; // the status is for signed-in staff
  const r = await api("GET", "/api/status").catch(() => null);
  if (r && r.status === 401) return;
  if (!r || !r.ok) {
    // The terminal itself does not answer (agent restarting).
    $("net").textContent = t("terminal_down"); $("net").className = "down";
    return;
  }
  const s = r.data;
  // Offline is a normal state of a relay point: deposits go on, and are
  // sent when the network is back. Said calmly, with what waits.
  $("net").textContent = s.online ? t("online") : t("offline");
  $("net").className = s.online ? "online" : "offline";
  document.body.dataset.online = s.online ? "1" : "0";
  $("backlog").textContent = s.outbox_pending ? tn("backlog", s.outbox_pending) : (s.online ? "" : t("backlog_none"));
  printerStatus(s.printer_states || []);
  $("disk").textContent = t(s.disk_warning ? "disk_low" : "disk_free", { free: fmtBytes(s.disk_free_bytes) });
  $("disk").className = s.disk_warning ? "warning" : "";
  // The journal did not open at start: deposits go on in a new one, the
  // old one is kept for the support to recover.
  $("journal").textContent = s.journal_damaged ? t("journal_damaged") : "";
  $("journal").className = s.journal_damaged ? "warning" : "";
  clockStatus(s);
}

// clockStatus says when the terminal's time cannot be trusted: its system
// clock is known to be wrong (the counter then runs from its last
// operation or the cloud's time), or its time was not checked against the
// cloud's lately (receipts say so too). Nothing when all is well.
function clockStatus(s) {
  let text = "", cls = "";
  if (s.clock_wrong) {
    const off = Math.abs(s.clock_skew_s !== undefined ? s.clock_skew_s : s.clock_behind_s || 0);
    const skew = off < 60 ? new Intl.NumberFormat(i18n.lang, { style: "unit", unit: "second", unitDisplay: "short" }).format(Math.round(off)) : fmtAge(off);
    text = t("clock_wrong", { skew }); cls = "warning";
  } else if (!s.clock_synced) {
    text = t("clock_unsynced");
  }
  $("clock").textContent = text;
  $("clock").className = cls;
}

// printerStatus says what is known of the printers: not checked yet (at
// start, until the first print or status answer), ready, or why one is
// down, with the jobs that wait for it.
function printerStatus(states) {
  const down = states.filter((p) => !p.up);
  let text = t("printers_ok"), cls = "";
  if (down.length) {
    text = down.map((p) => t(p.printer === "label" ? "printer_label_down" : "printer_receipt_down", { why: tOr("printer_" + p.reason, "printer_other") }) +
      (p.pending ? " " + t("printer_pending", { n: fmtNumber(p.pending) }) : "")).join(" — ");
    cls = "warning";
  } else if (states.some((p) => p.reason === "unchecked")) {
    text = t("printers_unchecked");
  }
  $("printers").textContent = text;
  $("printers").className = cls;
}

i18n.onChange.push(() => {
  if (lastCheck && !$("check").hidden && $("check").firstChild) showCheck(lastCheck.a, lastCheck.text);
  if (lastDeposit && !$("result").hidden) showDeposit(lastDeposit.deposit);
  status();
});

// Start once every script is in (they are deferred, run in order).
document.addEventListener("DOMContentLoaded", async () => {
  await setLang(savedLang());
  const r = await api("GET", "/api/session");
  if (r.ok) unlock(r.data.staff, r.data.kiosk); else lock();
  status(); setInterval(status, 3000);
  document.body.dataset.ready = "1";
});
