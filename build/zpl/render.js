#!/usr/bin/env node
// render.js renders ZPL to PNG with zpl-renderer-js (a WebAssembly build of
// ingridhq/zebrash), so that Comptoir's printer tests and docs read labels
// drawn by a renderer we did not write.
//
//   node render.js WIDTH_MM HEIGHT_MM DPMM FILE.zpl...
//
// For each FILE.zpl it writes FILE.png (the first label of the file) and
// prints one line, "FILE.zpl labels=N", N being how many labels (^XA...^XZ)
// the renderer found in it. It exits 1 with a message on standard error
// when a file cannot be read or rendered.
"use strict";

const fs = require("node:fs");
const { ready } = require("zpl-renderer-js");

async function main() {
  const args = process.argv.slice(2);
  const [w, h, dpmm] = args.slice(0, 3).map(Number);
  const files = args.slice(3);
  if (!(w > 0 && h > 0 && dpmm > 0) || files.length === 0) {
    process.stderr.write("usage: node render.js WIDTH_MM HEIGHT_MM DPMM FILE.zpl...\n");
    process.exit(2);
  }
  const { api } = await ready;
  for (const file of files) {
    // ZPL with ^CI28 is UTF-8.
    const zpl = fs.readFileSync(file).toString("utf8");
    const labels = await api.zplToBase64MultipleAsync(zpl, w, h, dpmm);
    if (!labels || labels.length === 0) throw new Error(file + ": no label rendered");
    fs.writeFileSync(file.replace(/\.zpl$/, "") + ".png", Buffer.from(labels[0], "base64"));
    process.stdout.write(file + " labels=" + labels.length + "\n");
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write("render.js: " + (err && err.message ? err.message : String(err)) + "\n");
    process.exit(1);
  },
);
