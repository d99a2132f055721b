// Strings, dates, numbers and weights in the clerk's language. The catalogs
// are ui/assets/i18n/{fr,en}.json, served by the terminal; French is the
// default and the choice is remembered on this screen (localStorage).
"use strict";

const i18n = { lang: "fr", cat: {}, langs: ["fr", "en"], onChange: [] };

// t returns the string of key with {name} replaced by vars.name. A key
// missing from the catalog gives a plain sentence, never the key itself.
function t(key, vars) {
  let s = i18n.cat[key];
  if (s === undefined) {
    console.warn("catalog " + i18n.lang + " has no " + key);
    s = i18n.cat.missing || "";
  }
  if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
  return s;
}

// tOr is t of key when the catalog has it, else of fallback: for keys made
// from codes (refusal_X, printer_X) that a newer agent may send.
function tOr(key, fallback, vars) {
  return t(i18n.cat[key] !== undefined ? key : fallback, vars);
}

// tn is t for a count: key_one when the language says n is singular.
function tn(key, n, vars) {
  const k = key + "_" + new Intl.PluralRules(i18n.lang).select(n);
  return t(i18n.cat[k] !== undefined ? k : key, Object.assign({ n: fmtNumber(n) }, vars));
}

function fmtNumber(n) { return new Intl.NumberFormat(i18n.lang).format(n); }

// fmtWeight shows a limit in kilograms, the one unit of the screen
// ("5 kg", "0,5 kg").
function fmtWeight(g) {
  return new Intl.NumberFormat(i18n.lang, { style: "unit", unit: "kilogram", maximumFractionDigits: 2 }).format(g / 1000);
}

// fmtWeightExact shows a parcel's weight as label and receipt print it:
// kilograms with two decimals ("1,20 kg" in French).
function fmtWeightExact(g) {
  return new Intl.NumberFormat(i18n.lang, { style: "unit", unit: "kilogram", minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(g / 1000);
}

function fmtBytes(b) {
  const gb = b / 1e9;
  if (gb >= 1) return new Intl.NumberFormat(i18n.lang, { style: "unit", unit: "gigabyte", maximumFractionDigits: 1 }).format(gb);
  return new Intl.NumberFormat(i18n.lang, { style: "unit", unit: "megabyte", maximumFractionDigits: 0 }).format(b / 1e6);
}

function fmtTime(iso) {
  return new Intl.DateTimeFormat(i18n.lang, { hour: "2-digit", minute: "2-digit" }).format(new Date(iso));
}

function fmtMonth(month) { // "2006-01", the terminal's local month
  const [y, m] = month.split("-").map(Number);
  return new Intl.DateTimeFormat(i18n.lang, { month: "long", year: "numeric" }).format(new Date(y, m - 1, 1));
}

function fmtDay(day) { // "2006-01-02", the terminal's local day
  const [y, m, d] = day.split("-").map(Number);
  return new Intl.DateTimeFormat(i18n.lang, { dateStyle: "full" }).format(new Date(y, m - 1, d));
}

// fmtAge shows a wait as "2 h 5 min" (or "2 d 3 h" past a day).
function fmtAge(s) {
  const nf = (n, unit) => new Intl.NumberFormat(i18n.lang, { style: "unit", unit, unitDisplay: "short" }).format(n);
  const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
  if (d) return nf(d, "day") + " " + nf(h, "hour");
  if (h) return nf(h, "hour") + " " + nf(m, "minute");
  if (!m) return t("age_now"); // never "0 min"
  return nf(m, "minute");
}

function applyI18n() {
  document.documentElement.lang = i18n.lang;
  document.querySelectorAll("[data-i18n]").forEach((e) => { e.textContent = t(e.dataset.i18n); });
  document.querySelectorAll("[data-i18n-aria]").forEach((e) => { e.setAttribute("aria-label", t(e.dataset.i18nAria)); });
  document.querySelectorAll("[data-i18n-alt]").forEach((e) => { e.alt = t(e.dataset.i18nAlt); });
  // The language button is named in the language it switches to; its
  // name starts with its visible text ("EN English").
  const other = i18n.lang === "fr" ? "en" : "fr";
  const b = document.getElementById("lang");
  b.lang = other;
  document.getElementById("lang-code").textContent = other.toUpperCase();
  document.getElementById("lang-name").textContent = " " + t("other_lang");
  document.title = t("title");
}

async function setLang(lang) {
  if (!i18n.langs.includes(lang)) lang = "fr";
  const res = await fetch("/i18n/" + lang + ".json", { credentials: "same-origin" });
  i18n.cat = await res.json();
  i18n.lang = lang;
  try { localStorage.setItem("comptoir.lang", lang); } catch (e) { /* private mode */ }
  applyI18n();
  for (const f of i18n.onChange) f();
}

// savedLang is the clerk's last choice on this screen, else the browser's
// language (the kiosk launcher starts Chromium in the terminal's), else
// French.
function savedLang() {
  let saved = null;
  try { saved = localStorage.getItem("comptoir.lang"); } catch (e) { /* private mode */ }
  if (saved) return saved;
  const nav = (navigator.language || "").slice(0, 2);
  return i18n.langs.includes(nav) ? nav : "fr";
}

document.getElementById("lang").addEventListener("click", () => setLang(i18n.lang === "fr" ? "en" : "fr"));
