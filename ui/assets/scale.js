// Kiosk script of the counter scale: while the deposit form waits for a
// weight on a terminal with a scale, it asks /api/scale a few times a
// second, says what the scale shows, and fills in the weight once it is
// stable. A weight the clerk types wins: the scale no longer overwrites it
// for this parcel. It uses $, api, t, kiosk, current, weightLimit,
// lastCheck and the formatters of app.js and i18n.js.
"use strict";

let scaleTimer = null, scaleTyped = false, scaleBusy = false;

// fmtScaleKg writes grams as kilograms the way the field reads them back
// (parseWeight): "1,234" in French, "1.234" in English, no grouping.
function fmtScaleKg(g) {
  return new Intl.NumberFormat(i18n.lang, { maximumFractionDigits: 3, useGrouping: false }).format(g / 1000);
}

function scaleStop() {
  if (scaleTimer) clearInterval(scaleTimer);
  scaleTimer = null;
  $("scale").textContent = ""; $("scale").className = "";
}

// scaleWatch starts reading the scale for the parcel being deposited.
function scaleWatch() {
  scaleStop();
  if (!kiosk.scale) return;
  scaleTyped = false;
  scaleRead();
  scaleTimer = setInterval(scaleRead, 250);
}

async function scaleRead() {
  if (scaleBusy) return;
  if ($("deposit-form").hidden || document.body.dataset.locked) { scaleStop(); return; }
  scaleBusy = true;
  const max = weightLimit(lastCheck && lastCheck.a.code);
  const r = await api("GET", "/api/scale" + (max ? "?max_g=" + max : "")).catch(() => null);
  scaleBusy = false;
  if (!scaleTimer || $("deposit-form").hidden) return;
  const w = r && r.ok ? r.data : { state: "silent", grams: 0 };
  const p = $("scale");
  p.dataset.state = w.state;
  p.className = w.ready ? "ok" : (w.state === "stable" && !w.refusal && w.grams < 10) || w.state === "unstable" ? "" : "refused";
  const weight = fmtWeightExact(w.grams);
  if (w.state === "stable" && w.refusal) p.textContent = t("scale_overweight", { weight, max: fmtWeight(max) });
  else if (w.state === "stable" && !w.ready) p.textContent = t("scale_empty");
  else p.textContent = tOr("scale_" + w.state, "scale_fault", { weight });
  // A warning that wraps below the fold of a small screen is brought into
  // view, once per new message, so that the clerk sees it.
  if (p.className === "refused" && p.textContent !== p.dataset.shown) p.scrollIntoView({ block: "nearest" });
  p.dataset.shown = p.textContent;
  if (scaleTyped) return;
  // The field follows the scale: a stable weight fills it, anything else
  // empties it, so that no weight the scale no longer shows is deposited.
  $("weight").value = w.ready ? fmtScaleKg(w.grams) : "";
}

$("weight").addEventListener("input", () => { scaleTyped = true; });
