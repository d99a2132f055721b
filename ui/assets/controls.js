// The kiosk's own controls, so that nothing on screen is the browser's (its
// file picker and validation bubbles speak the browser's language): the PIN
// keypad, the confirmation of destructive actions, weight entry as a
// shopkeeper reads a scale, and the photo button. Strings come from t.
"use strict";

// The PIN keypad: the terminal may have no keyboard. Digits go into the
// PIN field; "Effacer" empties it; "Entrer" submits the form.
document.querySelectorAll("#keypad button[data-digit]").forEach((b) => {
  b.addEventListener("click", () => {
    const pin = document.getElementById("pin");
    if (pin.value.length < pin.maxLength) pin.value += b.dataset.digit;
  });
});
document.getElementById("pin-clear").addEventListener("click", () => { document.getElementById("pin").value = ""; });

// confirmDanger asks before a destructive action, in a modal dialog whose
// safe answer has the focus; it resolves to true when the clerk confirms.
function confirmDanger(question, yes) {
  const d = document.getElementById("confirm"), yesB = document.getElementById("confirm-yes"), noB = document.getElementById("confirm-no");
  document.getElementById("confirm-text").textContent = question;
  yesB.textContent = yes;
  d.showModal();
  noB.focus();
  return new Promise((resolve) => {
    const done = (v) => {
      yesB.onclick = null; noB.onclick = null; d.oncancel = null;
      d.close();
      resolve(v);
    };
    yesB.onclick = () => done(true);
    noB.onclick = () => done(false);
    d.oncancel = (e) => { e.preventDefault(); done(false); };
  });
}

// minWeightG is the lightest plausible parcel: below it the clerk most
// likely typed grams as kilograms the other way round, or nothing was weighed.
const minWeightG = 10;

// parseWeight reads a weight as a scale shows it: kilograms with a decimal
// comma or dot ("1,2", "1.25", "2 kg"), or grams with their unit ("850 g").
// It returns { g } in grams, or { error } naming a catalog key.
function parseWeight(text) {
  const m = /^\s*(\d+(?:[.,]\d+)?)\s*(kg|g)?\s*$/i.exec(text);
  if (!m) return { error: text.trim() ? "weight_unreadable" : "weight_missing" };
  const n = Number(m[1].replace(",", "."));
  const grams = m[2] && m[2].toLowerCase() === "g";
  const g = Math.round(grams ? n : n * 1000);
  if (g < minWeightG) return { error: "weight_implausible" };
  return { g, unitless: !m[2], n };
}

// The photo of a code, through our own button: the file input's own
// button and its "no file chosen" are the browser's words, not ours.
document.getElementById("frame-pick").addEventListener("click", () => document.getElementById("frame").click());
