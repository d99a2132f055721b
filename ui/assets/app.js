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
  const opts = { method, headers: {}, credentials: "same-origin" };
  if (body !== undefined) {
    opts.headers["Content-Type"] = type || "application/json";
    opts.body = type ? body : JSON.stringify(body);
  }
  const res = await fetch(path, opts);
  let data = {};
  if (res.status !== 204) {
    data = await res.json().catch(() => ({ error: { code: "BAD_ANSWER", message: t("err_BAD_ANSWER") } }));
  }
  if (res.status === 401 && path !== "/api/session") { lock(); }
  return { ok: res.ok, status: res.status, data };
}

// explain turns refusal codes into plain sentences of the catalog.
function explain(codes) {
  return codes.map((c) => (i18n.cat["refusal_" + c] !== undefined ? t("refusal_" + c) : c)).join(" ");
}

// errorText is the clerk's sentence for an API error.
function errorText(err) {
  if (err.refusals && err.refusals.length) return explain(err.refusals);
  if (i18n.cat["err_" + err.code] !== undefined) return t("err_" + err.code);
  return err.message;
}

function lock() {
  if (typeof cameraStop === "function") cameraStop();
  document.querySelectorAll(".view").forEach((v) => { v.hidden = true; });
  $("views").hidden = true;
  $("desk").hidden = true; $("login").hidden = false; $("logout").hidden = true;
  $("who").textContent = ""; $("pin").value = ""; $("pin").focus();
  for (const id of ["net", "backlog", "printers", "disk"]) $(id).textContent = "";
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
  current = null; lastCheck = null; lastDeposit = null;
  $("check").replaceChildren(); $("deposit-form").hidden = true; $("result").hidden = true;
  $("code").value = ""; $("weight").value = ""; $("r-msg").textContent = "";
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
  } else {
    current = null;
    p.className = "refused";
    p.textContent = t("refused", { why: explain(a.refusals) });
  }
  $("check").replaceChildren(p);
  $("deposit-form").hidden = !a.eligible;
  if (a.eligible) $("weight").focus(); else { $("code").value = text; $("code").select(); }
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
  const r = await api("POST", "/api/session", { pin: $("pin").value });
  $("pin").value = "";
  if (r.ok) { $("login-error").textContent = ""; unlock(r.data.staff, r.data.kiosk); }
  else { $("login-error").textContent = errorText(r.data.error); }
});

$("logout").addEventListener("click", async () => { await api("DELETE", "/api/session"); lock(); });

$("scan-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const text = $("code").value.trim();
  if (!text) return;
  $("result").hidden = true;
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
  const g = Number($("weight").value), max = Number($("weight").dataset.max || 0);
  if (max && g > max) { // the Desk would refuse it too: say so at once
    showError({ refusals: ["OVERWEIGHT"] });
    $("verdict").textContent += " (" + t("weight_max", { max: fmtWeight(max) }) + ")";
    $("weight").select();
    return;
  }
  const r = await api("POST", "/api/deposits", { code: current, weight_g: g });
  if (!r.ok) { showError(r.data.error); return; }
  lastDeposit = r.data;
  $("deposit-form").hidden = true;
  $("check").replaceChildren();
  $("r-tracking").textContent = r.data.deposit.tracking;
  $("r-slot").textContent = r.data.deposit.shelf_slot;
  $("r-qr").src = r.data.receipt.png_url;
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
  $("next").focus();
});

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
  const r = await api("POST", "/api/deposits/" + encodeURIComponent(d.id) + "/cancel", { reason: "" });
  $("r-msg").textContent = r.ok ? t("cancelled", { tracking: d.tracking }) : t("refused", { why: errorText(r.data.error) });
  if (r.ok) $("r-cancel").hidden = true;
});

// A handheld scanner types the code and Enter into whatever has focus: on
// the drop-off screen, keystrokes that land outside a field go to the code
// field, so the clerk never taps it first.
document.addEventListener("keydown", (e) => {
  if ($("desk").hidden || e.ctrlKey || e.metaKey || e.altKey) return;
  const tgt = e.target;
  // A code scanned while the weight waits (a letter: codes start with one)
  // is the next parcel's, not a weight.
  if (tgt === $("weight") && e.key.length === 1 && !/[0-9.,]/.test(e.key)) { $("code").value = ""; $("code").focus(); return; }
  if (tgt instanceof HTMLInputElement || tgt instanceof HTMLSelectElement || tgt instanceof HTMLTextAreaElement) return;
  if (e.key.length === 1) { $("code").value = ""; $("code").focus(); }
});

async function status() {
  if (document.body.dataset.locked) return; // the status is for signed-in staff
  const r = await api("GET", "/api/status").catch(() => null);
  if (r && r.status === 401) return;
  if (!r || !r.ok) {
    // The terminal itself does not answer (agent restarting).
    $("net").textContent = t("terminal_down"); $("net").className = "offline";
    return;
  }
  const s = r.data;
  $("net").textContent = s.online ? t("online") : t("offline");
  $("net").className = s.online ? "online" : "offline";
  document.body.dataset.online = s.online ? "1" : "0";
  $("backlog").textContent = s.outbox_pending ? tn("backlog", s.outbox_pending) : "";
  const down = (s.printer_states || []).filter((p) => !p.up);
  $("printers").textContent = down.length === 0 ? t("printers_ok") : down
    .map((p) => t(p.printer === "label" ? "printer_label_down" : "printer_receipt_down", { why: t("printer_" + p.reason) }) +
      (p.pending ? " " + t("printer_pending", { n: fmtNumber(p.pending) }) : "")).join(" — ");
  $("printers").className = down.length ? "warning" : "";
  $("disk").textContent = t(s.disk_warning ? "disk_low" : "disk_free", { free: fmtBytes(s.disk_free_bytes) });
  $("disk").className = s.disk_warning ? "warning" : "";
}

i18n.onChange.push(() => {
  if (lastCheck) showCheck(lastCheck.a, lastCheck.text);
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
