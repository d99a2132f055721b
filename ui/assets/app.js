// Kiosk script: sign in, scan (HID scanner, typed or photo), deposit, show the
// receipt QR. Plain JavaScript, no build step, nothing loaded from outside.
"use strict";

const $ = (id) => document.getElementById(id);

const messages = {
  UNREADABLE: "Code illisible.",
  UNKNOWN_FORMAT: "Ce n'est ni un code de retour ni un numéro de suivi.",
  BAD_SIGNATURE: "Code de retour non authentique.",
  UNKNOWN_ISSUER: "Émetteur du code inconnu.",
  EXPIRED: "Délai de retour dépassé.",
  NOT_YET_VALID: "Code de retour pas encore valable.",
  REVOKED: "Code de retour annulé.",
  DUPLICATE: "Colis déjà déposé.",
  OVERWEIGHT: "Colis trop lourd.",
  OVERSIZE: "Colis trop grand.",
  DANGEROUS_GOODS: "Marchandises dangereuses refusées.",
  WRONG_NETWORK: "À déposer dans un autre réseau.",
  SHELF_FULL: "Étagère pleine.",
  BAD_CHECK_DIGIT: "Numéro de suivi erroné (clé de contrôle).",
  STORAGE_FULL: "Mémoire du terminal pleine : appelez le support.",
};

let current = null; // the last eligible code text

async function api(method, path, body, type) {
  const opts = { method, headers: {}, credentials: "same-origin" };
  if (body !== undefined) {
    opts.headers["Content-Type"] = type || "application/json";
    opts.body = type ? body : JSON.stringify(body);
  }
  const res = await fetch(path, opts);
  const data = res.status === 204 ? {} : await res.json();
  if (res.status === 401 && path !== "/api/session") { lock(); }
  return { ok: res.ok, status: res.status, data };
}

function explain(codes) {
  return codes.map((c) => messages[c] || c).join(" ");
}

function lock() {
  document.querySelectorAll(".view").forEach((v) => { v.hidden = true; });
  $("views").hidden = true;
  $("desk").hidden = true; $("login").hidden = false; $("logout").hidden = true;
  $("who").textContent = ""; $("pin").value = ""; $("pin").focus();
}

function unlock(staff) {
  $("login").hidden = true; $("desk").hidden = false; $("logout").hidden = false;
  $("views").hidden = false; document.body.dataset.role = staff.role;
  $("who").textContent = staff.name + " (" + staff.role + ")";
  reset();
}

function reset() {
  current = null;
  $("check").textContent = ""; $("deposit-form").hidden = true; $("result").hidden = true;
  $("code").value = ""; $("weight").value = ""; $("code").focus();
}

function showCheck(a, text) {
  if (a.eligible) {
    current = text;
    $("check").innerHTML = "";
    const p = document.createElement("p");
    p.className = "ok";
    p.textContent = "Code valable : " + (a.code.tracking || "") + (a.code.verified ? " (retour autorisé)" : " (non vérifié)");
    $("check").append(p);
    $("deposit-form").hidden = false;
    $("weight").focus();
  } else {
    current = null;
    $("check").innerHTML = "";
    const p = document.createElement("p");
    p.className = "refused";
    p.textContent = "Refusé : " + explain(a.refusals);
    $("check").append(p);
    $("deposit-form").hidden = true;
    $("code").select();
  }
}

$("login-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const r = await api("POST", "/api/session", { pin: $("pin").value });
  $("pin").value = "";
  if (r.ok) { $("login-error").textContent = ""; unlock(r.data.staff); }
  else { $("login-error").textContent = r.data.error.message; }
});

$("logout").addEventListener("click", async () => { await api("DELETE", "/api/session"); lock(); });

$("scan-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const text = $("code").value.trim();
  if (!text) return;
  const r = await api("POST", "/api/scan", { code: text });
  if (r.ok) showCheck(r.data, text);
  else $("check").textContent = r.data.error.message;
});

$("frame").addEventListener("change", async () => {
  const f = $("frame").files[0];
  if (!f) return;
  const r = await api("POST", "/api/scan/image", await f.arrayBuffer(), f.type || "application/octet-stream");
  $("frame").value = "";
  if (r.ok) showCheck(r.data, r.data.text || "");
  else $("check").textContent = r.data.error.message;
});

$("deposit-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  if (!current) return;
  const r = await api("POST", "/api/deposits", { code: current, weight_g: Number($("weight").value) });
  if (!r.ok) {
    const err = r.data.error;
    $("check").textContent = "Refusé : " + (err.refusals ? explain(err.refusals) : err.message);
    return;
  }
  $("deposit-form").hidden = true;
  $("r-tracking").textContent = r.data.deposit.tracking;
  $("r-slot").textContent = r.data.deposit.shelf_slot;
  $("r-qr").src = r.data.receipt.png_url;
  // The label's preview is drawn on request: fetch it only when opened.
  const label = r.data.label;
  $("r-label-box").hidden = !label;
  $("r-label-box").open = false;
  $("r-label").removeAttribute("src");
  if (label) {
    $("r-label-box").ontoggle = () => { if ($("r-label-box").open) $("r-label").src = label.png_url; };
    $("r-label-pdf").href = label.pdf_url;
  }
  $("result").hidden = false;
  $("next").focus();
});

$("next").addEventListener("click", reset);

// A handheld scanner types the code and Enter into whatever has focus: send
// keystrokes that land outside an input to the code field.
document.addEventListener("keydown", (e) => {
  if ($("desk").hidden || e.target instanceof HTMLInputElement || e.ctrlKey || e.metaKey || e.altKey) return;
  if (e.key.length === 1) { $("code").focus(); }
});

async function status() {
  const r = await api("GET", "/api/status").catch(() => null);
  if (r && r.ok) {
    const s = r.data;
    $("net").textContent = s.online ? "En ligne" : "Hors ligne";
    $("net").className = s.online ? "online" : "offline";
    $("backlog").textContent = s.outbox_pending ? s.outbox_pending + " en attente d'envoi" : "";
    const why = { paper_out: "plus de papier", head_open: "capot ouvert", paused: "en pause", unreachable: "injoignable", failing: "en erreur" };
    $("printers").textContent = (s.printer_states || []).filter((p) => !p.up)
      .map((p) => "Imprimante " + (p.printer === "label" ? "d'étiquettes" : "de reçus") + " : " + (why[p.reason] || p.reason) +
        (p.pending ? " (" + p.pending + " en attente, imprimé dès son retour)" : "")).join(" — ");
    if ($("login").hidden === false && r.status === 200) { /* signed in elsewhere */ }
  }
}

(async () => {
  const r = await api("GET", "/api/session");
  if (r.ok) unlock(r.data.staff); else lock();
  status(); setInterval(status, 5000);
})();
