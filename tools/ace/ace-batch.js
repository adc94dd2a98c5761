#!/usr/bin/env node
// Ace by DAISY on several EPUBs in one Node process (the CLI takes one EPUB per process).
// Usage: node ace-batch.js OUTROOT a.epub b.epub ...
// Writes OUTROOT/<n>/report.json for the n-th EPUB (the report `ace-puppeteer -o` writes) and
// prints one line per EPUB: "DONE\t<n>" or "ERROR\t<n>\t<message>".
// Chromium comes from PUPPETEER_EXECUTABLE_PATH (no browser is downloaded).
'use strict';

const path = require('path');
const ace = require('@daisy/ace-core');
const axeRunner = require('@daisy/ace-axe-runner-puppeteer');
const logger = require('@daisy/ace-logger');

(async () => {
  const [outRoot, ...epubs] = process.argv.slice(2);
  if (!outRoot || epubs.length === 0) {
    console.error('usage: ace-batch.js OUTROOT EPUB...');
    process.exit(64);
  }
  logger.initLogger({ verbose: false, silent: true });
  for (let n = 0; n < epubs.length; n++) {
    try {
      await ace(epubs[n], { cwd: process.cwd(), outdir: path.join(outRoot, String(n)),
                            silent: true, jobId: '' }, axeRunner);
      console.log(`DONE\t${n}`);
    } catch (err) {
      const msg = String((err && err.message) || err).replace(/\s+/g, ' ');
      console.log(`ERROR\t${n}\t${msg}`);
    }
  }
  process.exit(0);
})();
