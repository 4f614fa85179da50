#!/usr/bin/env node
// A stock EventSource client (the npm `eventsource` package) for the live-stream tests.
//
//   node sse_client.js --url URL [--token T] [--last-event-id N] [--count N] [--timeout-ms MS]
//
// Prints one JSON line per happening on stdout, flushed as it happens:
//   {"open":true}                                   the stream is connected
//   {"id":"12","type":"issue.created","data":{...}} one per event (data parsed from JSON)
//   {"error":"...","status":401}                    an error (EventSource may reconnect)
// Exits 0 after --count events, 2 on timeout, 3 when the server refused the stream.
'use strict';

const EventSource = require('eventsource');

function parseArgs(argv) {
  const args = { count: Infinity, timeoutMs: 30000 };
  for (let i = 2; i < argv.length; i += 2) {
    const [key, value] = [argv[i], argv[i + 1]];
    if (value === undefined) throw new Error(`${key} needs a value`);
    if (key === '--url') args.url = value;
    else if (key === '--token') args.token = value;
    else if (key === '--last-event-id') args.lastEventId = value;
    else if (key === '--count') args.count = Number(value);
    else if (key === '--timeout-ms') args.timeoutMs = Number(value);
    else throw new Error(`unknown argument ${key}`);
  }
  if (!args.url) throw new Error('--url is required');
  return args;
}

function emit(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

const args = parseArgs(process.argv);
const headers = {};
if (args.token) headers.Authorization = `Bearer ${args.token}`;
if (args.lastEventId !== undefined) headers['Last-Event-ID'] = args.lastEventId;

const source = new EventSource(args.url, { headers });
let received = 0;

function finish(code) {
  source.close();
  // Let stdout drain before exiting.
  process.stdout.write('', () => process.exit(code));
}

const timer = setTimeout(() => {
  emit({ timeout: true, received });
  finish(2);
}, args.timeoutMs);

source.onopen = () => emit({ open: true });

source.onerror = (err) => {
  emit({ error: (err && err.message) || 'error', status: err && err.status });
  if (err && err.status) {
    clearTimeout(timer);
    finish(3);
  }
};

function onEvent(e) {
  let data;
  try {
    data = JSON.parse(e.data);
  } catch (parseError) {
    data = { unparsable: e.data };
  }
  emit({ id: e.lastEventId, type: e.type, data });
  received += 1;
  if (received >= args.count) {
    clearTimeout(timer);
    finish(0);
  }
}

// EventSource dispatches named events to their own listeners only: listen for every type of
// the catalog (SPEC §7.1), and for unnamed messages.
const kTypes = [
  'issue.created', 'issue.updated', 'issue.resolved', 'pattern.detected', 'pattern.updated',
  'pattern.reopened', 'prediction.alert.fired', 'recommendation.created',
  'recommendation.updated', 'sync.succeeded', 'sync.failed', 'connector.connected',
  'connector.disconnected', 'connector.health_changed', 'webhook.endpoint_disabled',
];
for (const type of kTypes) source.addEventListener(type, onEvent);
source.onmessage = onEvent;
