#!/usr/bin/env node
// https_sink.js: a scriptable HTTP(S) receiver for tests (net_test's HttpClient tests, the
// outbound webhook end-to-end tests). Records every request and answers as scripted.
//
// usage: node https_sink.js [--port N] [--host ADDR] [--cert PEM --key PEM] [--log FILE]
//                           [--status N] [--script JSON | --script @FILE] [--exit-with-stdin]
//
//   --port N           Port to listen on; 0 (the default) picks a free one.
//   --host ADDR        Address to bind; default 127.0.0.1.
//   --cert, --key      PEM server certificate (chain) and private key: both given = HTTPS,
//                      neither = plain HTTP.
//   --log FILE         Appends one JSON line per request, once its body has been read and
//                      before it is answered. Keys, always in this order:
//                        n          request number over all requests, from 1
//                        path_n     request number for this path (without query), from 1
//                        conn       connection number, from 1 (equal = keep-alive reuse)
//                        time_ms    arrival time, Unix milliseconds
//                        concurrent requests arrived and not yet answered, this one included
//                        status     the status this request is answered with (0 = destroy)
//                        method, url, path
//                        headers    {lower-case name: value} (repeated names joined by ", ")
//                        body       the request body as UTF-8 text
//   --status N         Default response status; default 200.
//   --script JSON      How to answer each request (inline JSON, or @FILE to read it):
//                        {"default": R, "1": R, "2": R, …, "paths": {"/p": {"default": R, "1": R}}}
//                      where R = {"status": 200, "headers": {"Retry-After": "5"},
//                                 "body": "text", "delay_ms": 0, "destroy": false}.
//                      Numbers count requests from 1: over all requests at the top level, per
//                      path inside "paths". The first match wins: paths[path][path_n],
//                      paths[path].default, script[n], script.default, then --status.
//                      Missing fields of R take defaults (status from --status, body "").
//                      delay_ms delays the whole response; destroy: true closes the connection
//                      without answering (after delay_ms).
//   --exit-with-stdin  Exit when stdin reaches EOF, so a sink spawned with a stdin pipe dies
//                      with the test process that spawned it, even after a crash.
//
// Once listening it prints one line to stdout: {"port": N, "pid": P, "tls": true|false}.
// Exits on SIGTERM and SIGINT. Examples:
//   node https_sink.js --cert server.pem --key server.key --log /tmp/log --status 503
//   node https_sink.js --script '{"1": {"status": 429, "headers": {"Retry-After": "2"}}}'
//   node https_sink.js --script '{"paths": {"/gone": {"default": {"status": 410}}}}'
'use strict';

const fs = require('fs');
const http = require('http');
const https = require('https');

function parseArgs(argv) {
  const opts = {port: 0, host: '127.0.0.1', status: 200, script: {}, exitWithStdin: false};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${arg} needs a value`);
      return argv[++i];
    };
    switch (arg) {
      case '--port':
        opts.port = Number(value());
        break;
      case '--host':
        opts.host = value();
        break;
      case '--cert':
        opts.cert = value();
        break;
      case '--key':
        opts.key = value();
        break;
      case '--log':
        opts.log = value();
        break;
      case '--status':
        opts.status = Number(value());
        break;
      case '--script': {
        const text = value();
        opts.script =
            JSON.parse(text.startsWith('@') ? fs.readFileSync(text.slice(1), 'utf8') : text);
        break;
      }
      case '--exit-with-stdin':
        opts.exitWithStdin = true;
        break;
      default:
        throw new Error(`unknown option ${arg}`);
    }
  }
  if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535)
    throw new Error('bad --port');
  if (!Number.isInteger(opts.status) || opts.status < 100 || opts.status > 999)
    throw new Error('bad --status');
  if (Boolean(opts.cert) !== Boolean(opts.key)) throw new Error('--cert and --key go together');
  return opts;
}

let opts;
try {
  opts = parseArgs(process.argv.slice(2));
} catch (e) {
  process.stderr.write(`https_sink: ${e.message}\n`);
  process.exit(2);
}

let requestCount = 0;
let connectionCount = 0;
let inProgress = 0;
const pathCounts = new Map();

function pick(path, n, pathN) {
  const script = opts.script || {};
  const perPath = script.paths && script.paths[path];
  const candidates = [
    perPath && perPath[String(pathN)], perPath && perPath.default, script[String(n)], script.default
  ];
  const found = candidates.find((c) => c !== undefined && c !== null) || {};
  return {
    status: found.status === undefined ? opts.status : found.status,
    headers: found.headers || {},
    body: found.body === undefined ? '' : String(found.body),
    delayMs: found.delay_ms || 0,
    destroy: Boolean(found.destroy),
  };
}

function handle(req, res) {
  inProgress++;
  let finished = false;
  const done = () => {
    if (!finished) {
      finished = true;
      inProgress--;
    }
  };
  res.on('finish', done);
  res.on('close', done);

  const n = ++requestCount;
  if (req.socket.sinkConn === undefined) req.socket.sinkConn = ++connectionCount;
  const arrived = Date.now();
  const concurrent = inProgress;
  const path = req.url.split('?')[0];
  const pathN = (pathCounts.get(path) || 0) + 1;
  pathCounts.set(path, pathN);
  const response = pick(path, n, pathN);

  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    if (opts.log) {
      const headers = {};
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        const name = req.rawHeaders[i].toLowerCase();
        headers[name] =
            name in headers ? `${headers[name]}, ${req.rawHeaders[i + 1]}` : req.rawHeaders[i + 1];
      }
      const entry = {
        n,
        path_n: pathN,
        conn: req.socket.sinkConn,
        time_ms: arrived,
        concurrent,
        status: response.destroy ? 0 : response.status,
        method: req.method,
        url: req.url,
        path,
        headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      fs.appendFileSync(opts.log, JSON.stringify(entry) + '\n');
    }
    setTimeout(() => {
      if (response.destroy) {
        req.socket.destroy();
        done();
        return;
      }
      const headers = {'content-type': 'text/plain', ...response.headers};
      // Counted as finished before the answer is written: the client may send its next request
      // on this connection before 'finish' fires here.
      done();
      res.writeHead(response.status, headers);
      res.end(response.body);
    }, response.delayMs);
  });
}

const server = opts.cert ?
    https.createServer({cert: fs.readFileSync(opts.cert), key: fs.readFileSync(opts.key)}, handle) :
    http.createServer(handle);
server.keepAliveTimeout = 30000;
server.listen(opts.port, opts.host, () => {
  process.stdout.write(
      JSON.stringify({port: server.address().port, pid: process.pid, tls: Boolean(opts.cert)}) +
      '\n');
});
server.on('error', (e) => {
  process.stderr.write(`https_sink: ${e.message}\n`);
  process.exit(1);
});

const stop = () => process.exit(0);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
if (opts.exitWithStdin) {
  process.stdin.on('end', stop);
  process.stdin.on('error', stop);
  process.stdin.resume();
}
