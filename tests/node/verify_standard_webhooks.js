#!/usr/bin/env node
// verify_standard_webhooks.js: checks a delivery with the stock npm `standardwebhooks` verifier,
// exactly as a receiver would. Used by the outbound signing tests.
//
// usage: echo '{"secret": "whsec_…", "headers": {…}, "body": "…", "now": 1700000000}' \
//          | node verify_standard_webhooks.js
//
// Exits 0 when `new Webhook(secret).verify(body, headers)` accepts the delivery; otherwise
// prints the error on stdout and exits 1 (2 when the input itself is unusable). `now` (Unix
// seconds, optional) fixes the verifier's clock so its 5-minute timestamp tolerance can be
// tested with fixed times; without it the real clock is used.
'use strict';

const {Webhook} = require('standardwebhooks');

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  input += chunk;
});
process.stdin.on('end', () => {
  let request;
  try {
    request = JSON.parse(input);
  } catch (e) {
    process.stdout.write(`bad input: ${e.message}\n`);
    process.exit(2);
  }
  if (typeof request.now === 'number') {
    const fixed = request.now * 1000;
    Date.now = () => fixed;
  }
  try {
    new Webhook(request.secret).verify(request.body, request.headers);
  } catch (e) {
    process.stdout.write(`${e.name}: ${e.message}\n`);
    process.exit(1);
  }
  process.stdout.write('ok\n');
  process.exit(0);
});
