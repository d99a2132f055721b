// Validates each EPCIS 2.0 document named on the command line with
// epcis2.js's validateEpcisDocument (its JSON schema and the CBV's
// vocabularies). Prints "ok FILE" or "invalid FILE: REASON" for each, and
// exits 1 if one is invalid.
'use strict';
const fs = require('node:fs');
const { validateEpcisDocument } = require('epcis2.js');

let bad = 0;
for (const file of process.argv.slice(2)) {
  try {
    const res = validateEpcisDocument(JSON.parse(fs.readFileSync(file, 'utf8')));
    if (!res.success) throw new Error(JSON.stringify(res.errors));
    console.log('ok ' + file);
  } catch (e) {
    bad++;
    console.log('invalid ' + file + ': ' + e.message);
  }
}
process.exit(bad ? 1 : 0);
