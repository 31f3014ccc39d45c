/* SaferOutbox (app/static/js/outbox.js) on an IndexedDB implemented in memory (fake-indexeddb,
 * installed by scripts/test from the npm registry into the git-ignored .cache/npm): the rules
 * every offline promise rests on. A record is never overwritten and never leaves except by
 * remove(); the sending state changes, the record's content never does; records list in the
 * order they are sent (priority, then age) and per person. Run with `node --test tests/js/`. */
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');

const REPO = path.join(__dirname, '..', '..');
const FAKE_IDB = path.join(REPO, '.cache', 'npm', 'node_modules', 'fake-indexeddb');
const SOURCE = fs.readFileSync(path.join(REPO, 'app', 'static', 'js', 'outbox.js'), 'utf8');

function loadOutbox() {
  assert.ok(fs.existsSync(FAKE_IDB),
    'fake-indexeddb is missing: scripts/test installs it (npm install --prefix .cache/npm fake-indexeddb@6)');
  // A fresh IndexedDB for every test: the outbox opens its database by name.
  const { IDBFactory } = require(FAKE_IDB);
  const sandbox = { indexedDB: new IDBFactory(), crypto: globalThis.crypto, Date, Promise, Math, String, Number,
    Error, isNaN, setTimeout, clearTimeout, structuredClone };
  sandbox.self = sandbox;
  vm.runInNewContext(SOURCE, sandbox, { filename: 'outbox.js' });
  return sandbox.SaferOutbox;
}

function report(outbox, userId, extra) {
  return outbox.add(Object.assign({ type: 'incident', user_id: userId, data: { description: 'Shouting' } }, extra));
}

test('a record is stored with a fresh id, pending, untried, belonging to its maker', async () => {
  const outbox = loadOutbox();
  const saved = await report(outbox, '7');
  assert.match(saved.id, /^[0-9a-f-]{36}$/);
  const stored = await outbox.get(saved.id);
  assert.equal(stored.status, 'pending');
  assert.equal(stored.attempts, 0);
  assert.equal(stored.user_id, '7');
  assert.deepEqual(stored.data, { description: 'Shouting' });
  assert.match(stored.recorded_at, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}[+-]\d{2}:\d{2}$/);
});

test('an id already in the outbox is never overwritten', async () => {
  const outbox = loadOutbox();
  const first = await report(outbox, '7', { data: { description: 'first' } });
  await assert.rejects(report(outbox, '7', { id: first.id, data: { description: 'second' } }));
  assert.deepEqual((await outbox.get(first.id)).data, { description: 'first' });
  assert.equal(await outbox.count('7'), 1);
});

test('a record without a type, data or an owner is refused and nothing is stored', async () => {
  const outbox = loadOutbox();
  await assert.rejects(outbox.add({ user_id: '7', data: {} }), /type and data/);
  await assert.rejects(outbox.add({ type: 'incident', user_id: '7' }), /type and data/);
  await assert.rejects(outbox.add({ type: 'incident', data: {} }), /belong to the person/);
  await assert.rejects(outbox.add({ type: 'incident', data: {}, user_id: '' }), /belong to the person/);
  assert.equal((await outbox.all()).length, 0);
});

test('records list in sending order: lower priority first, then oldest first, even within a millisecond', async () => {
  const outbox = loadOutbox();
  const a = await report(outbox, '7');
  const b = await report(outbox, '7');
  const alarm = await outbox.add({ type: 'alarm_raised', user_id: '7', data: {}, priority: 0 });
  const c = await report(outbox, '7');
  assert.deepEqual((await outbox.list('7')).map((r) => r.id), [alarm.id, a.id, b.id, c.id]);
});

test('each person sees only their own records; all() sees everyone on the phone', async () => {
  const outbox = loadOutbox();
  await report(outbox, '7');
  await report(outbox, '8');
  await report(outbox, '8');
  assert.equal(await outbox.count('7'), 1);
  assert.equal(await outbox.count('8'), 2);
  assert.equal((await outbox.list(8)).length, 2, 'a numeric id matches its string form');
  assert.equal((await outbox.all()).length, 3);
});

test('a refusal marks the record with the reasons and keeps it', async () => {
  const outbox = loadOutbox();
  const saved = await report(outbox, '7');
  await outbox.markRejected(saved.id, { description: ['Describe what happened.'] }, false);
  const kept = await outbox.get(saved.id);
  assert.equal(kept.status, 'rejected');
  assert.deepEqual(kept.errors, { description: ['Describe what happened.'] });
  assert.equal(kept.attempts, 1);
  assert.deepEqual(kept.data, saved.data, 'the content is never changed');
});

test('a failed try is counted with its message and the record stays pending', async () => {
  const outbox = loadOutbox();
  const saved = await report(outbox, '7');
  await outbox.markAttempt(saved.id, 'No answer from the server.');
  await outbox.markAttempt(saved.id, 'The server answered 503.');
  const kept = await outbox.get(saved.id);
  assert.equal(kept.status, 'pending');
  assert.equal(kept.attempts, 2);
  assert.equal(kept.last_error, 'The server answered 503.');
  assert.ok(kept.last_attempt_at > 0);
});

test('a record the server failed on its own is set aside with its words and reference, still pending', async () => {
  const outbox = loadOutbox();
  const saved = await report(outbox, '7');
  await outbox.markFailedAlone(saved.id, 'The server could not store this record (reference ab12cd34).', 'ab12cd34');
  const kept = await outbox.get(saved.id);
  assert.equal(kept.status, 'pending');
  assert.equal(kept.failed_alone, true);
  assert.equal(kept.error_reference, 'ab12cd34');
  assert.match(kept.last_error, /ab12cd34/);
});

test('only remove() takes a record out; marking an unknown id changes nothing', async () => {
  const outbox = loadOutbox();
  const saved = await report(outbox, '7');
  await outbox.markAttempt('no-such-id', 'x');
  assert.equal((await outbox.all()).length, 1);
  await outbox.remove(saved.id);
  assert.equal(await outbox.get(saved.id), undefined);
  assert.equal((await outbox.all()).length, 0);
});
