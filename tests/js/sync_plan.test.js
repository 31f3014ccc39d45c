/* How sync.js plans a drain's batches (SaferSync.planBatches): run with `node --test tests/js/`.
 * sync.js is loaded as the browser loads it (a plain script setting self.SaferSync). */
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');

const SOURCE = fs.readFileSync(path.join(__dirname, '..', '..', 'app', 'static', 'js', 'sync.js'), 'utf8');

function loadSync() {
  const sandbox = {};
  sandbox.self = sandbox;
  vm.runInNewContext(SOURCE, sandbox, { filename: 'sync.js' });
  return sandbox.SaferSync;
}

const SaferSync = loadSync();

let made = 0;
function record(type, fields) {
  made += 1;
  return Object.assign({ id: type + '-' + made, type, status: 'pending', priority: 10, created_at: made,
                         attempts: 0, last_attempt_at: null, failed_alone: false }, fields || {});
}

// sync.js runs in its own realm: compare plain copies (its arrays have another Array.prototype).
function plain(value) {
  return JSON.parse(JSON.stringify(value));
}

function ids(plan) {
  return plain(plan.map((batch) => batch.records.map((r) => r.id)));
}

test('an alarm and a finish go first, in a batch of their own, before any other record', () => {
  const start = record('session_started', { priority: 1 });
  const check = record('check_in', { priority: 1 });
  const incident = record('incident');
  const finish = record('session_finished', { priority: 0 });
  const alarm = record('alarm_raised', { priority: 0 });
  const plan = SaferSync.planBatches([finish, alarm, start, check, incident], 50);
  assert.deepEqual(ids(plan), [[finish.id, alarm.id], [start.id, check.id, incident.id]]);
  assert.deepEqual(plain(plan.map((b) => [b.urgent, b.setAside])), [[true, false], [false, false]]);
});

test('urgency is by record type, not by priority number', () => {
  // An alarm saved with an ordinary priority (an old page, a page that forgot) is still urgent;
  // an incident with priority 0 is not sent in the urgent batch.
  const early = record('incident', { priority: 0 });
  const alarm = record('alarm_raised', { priority: 10 });
  const plan = SaferSync.planBatches([early, alarm], 50);
  assert.deepEqual(ids(plan), [[alarm.id], [early.id]]);
  assert.equal(SaferSync.isUrgent({ type: 'alarm_raised' }), true);
  assert.equal(SaferSync.isUrgent({ type: 'session_finished' }), true);
  assert.equal(SaferSync.isUrgent({ type: 'check_in' }), false);
  assert.equal(SaferSync.isUrgent({ type: 'hasOwnProperty' }), false);
});

test('ordinary records go in batches of the given size, in the outbox order', () => {
  const records = Array.from({ length: 7 }, () => record('incident'));
  const plan = SaferSync.planBatches(records, 3);
  assert.deepEqual(ids(plan), [records.slice(0, 3), records.slice(3, 6), records.slice(6)].map((b) => b.map((r) => r.id)));
  assert.ok(plan.every((b) => !b.urgent && !b.setAside));
});

test('only pending records are planned: refused ones wait for the worker', () => {
  const refused = record('incident', { status: 'rejected' });
  const pending = record('incident');
  assert.deepEqual(ids(SaferSync.planBatches([refused, pending], 50)), [[pending.id]]);
  assert.deepEqual(plain(SaferSync.planBatches([refused], 50)), []);
  assert.deepEqual(plain(SaferSync.planBatches([], 50)), []);
});

test('a record the server failed on its own goes after all the others, never with them', () => {
  const poison = record('check_in', { priority: 1, failed_alone: true, last_attempt_at: 1000 });
  const check = record('check_in', { priority: 1 });
  const incident = record('incident');
  const alarm = record('alarm_raised', { priority: 0 });
  const plan = SaferSync.planBatches([alarm, poison, check, incident], 50);
  assert.deepEqual(ids(plan), [[alarm.id], [check.id, incident.id], [poison.id]]);
  assert.deepEqual(plain(plan.map((b) => b.setAside)), [false, false, true]);
});

test('set-aside records: urgent ones first, then the least recently tried', () => {
  const tried3 = record('incident', { failed_alone: true, last_attempt_at: 3000 });
  const tried1 = record('incident', { failed_alone: true, last_attempt_at: 1000 });
  const tried2 = record('check_in', { priority: 1, failed_alone: true, last_attempt_at: 2000 });
  const alarm = record('alarm_raised', { priority: 0, failed_alone: true, last_attempt_at: 9000 });
  const plan = SaferSync.planBatches([alarm, tried2, tried3, tried1], 50);
  assert.deepEqual(ids(plan), [[alarm.id], [tried1.id, tried2.id, tried3.id]]);
  assert.deepEqual(plain(plan.map((b) => [b.urgent, b.setAside])), [[true, true], [false, true]]);
});

test('the urgent batch is split too when there are more urgent records than a batch holds', () => {
  const alarms = Array.from({ length: 5 }, () => record('alarm_raised', { priority: 0 }));
  const plan = SaferSync.planBatches(alarms, 2);
  assert.deepEqual(plain(plan.map((b) => b.records.length)), [2, 2, 1]);
  assert.ok(plan.every((b) => b.urgent));
});

test('the default batch size is BATCH_SIZE (50)', () => {
  const records = Array.from({ length: 60 }, () => record('incident'));
  assert.equal(SaferSync.BATCH_SIZE, 50);
  assert.deepEqual(plain(SaferSync.planBatches(records).map((b) => b.records.length)), [50, 10]);
});
