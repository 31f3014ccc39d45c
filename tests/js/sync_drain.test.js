/* SaferSync.drain against a fake server and an in-memory outbox: how a drain splits a batch the
 * server failed, sets aside a poison record, stops, and gives up. Run with `node --test tests/js/`.
 * The browser tests (tests/e2e/test_poison_records.py) cover the same with IndexedDB and a real
 * server; these cover the cases a browser test would take minutes to set up. */
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');

const SOURCE = fs.readFileSync(path.join(__dirname, '..', '..', 'app', 'static', 'js', 'sync.js'), 'utf8');
const USER = '7';

/* An outbox in memory with SaferOutbox's rules: list in priority-then-age order, change only
 * the sending state, never delete except remove(). */
function memoryOutbox(records) {
  const store = new Map(records.map((r) => [r.id, r]));
  const update = (id, change) => { const r = store.get(id); if (r) { change(r); } return Promise.resolve(r); };
  return {
    store,
    list: (userId) => Promise.resolve([...store.values()]
      .filter((r) => userId === undefined || userId === null || String(r.user_id) === String(userId))
      .sort((a, b) => (a.priority - b.priority) || (a.created_at - b.created_at))),
    count: (userId) => Promise.resolve([...store.values()].filter((r) => String(r.user_id) === String(userId)).length),
    remove: (id) => { store.delete(id); return Promise.resolve(); },
    markRejected: (id, errors, conflict) => update(id, (r) => {
      r.status = 'rejected'; r.errors = errors; r.conflict = conflict; r.attempts += 1; r.last_attempt_at = Date.now();
    }),
    markAttempt: (id, message) => update(id, (r) => { r.attempts += 1; r.last_attempt_at = Date.now(); r.last_error = message; }),
    markFailedAlone: (id, message, reference) => update(id, (r) => {
      r.attempts += 1; r.last_attempt_at = Date.now(); r.last_error = message; r.failed_alone = true;
      r.error_reference = reference || null;
    }),
    isoWithOffset: (date) => date.toISOString(),
  };
}

let made = 0;
function record(type, fields) {
  made += 1;
  return Object.assign({ id: type + '-' + made, type, user_id: USER, status: 'pending', priority: 10, created_at: made,
                         attempts: 0, last_error: null, last_attempt_at: null, failed_alone: false }, fields || {});
}

function json(status, body) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

/* A phone: sync.js loaded in its own realm with a fake fetch. `answer(ids)` gets the ids of a
 * posted batch and returns a Response, or throws for "no connection". */
function phone(records, answer) {
  const outbox = memoryOutbox(records);
  const posted = [];
  const sandbox = {
    SaferOutbox: outbox, AbortController, setTimeout, clearTimeout, Response,
    fetch: (url, options) => {
      if (url === '/api/v1/session') {
        return Promise.resolve(json(200, { user: { id: Number(USER) }, csrf_token: 'token' }));
      }
      const ids = JSON.parse(options.body).records.map((r) => r.id);
      posted.push(ids);
      try { return Promise.resolve(answer(ids)); } catch (error) { return Promise.reject(error); }
    },
  };
  sandbox.self = sandbox;
  vm.runInNewContext(SOURCE, sandbox, { filename: 'sync.js' });
  return {
    outbox, posted,
    drain: () => sandbox.SaferSync.drain({ userId: USER }).then((summary) => JSON.parse(JSON.stringify(summary))),
    kept: () => [...outbox.store.keys()],
  };
}

const stored = (ids) => json(200, { results: ids.map((id) => ({ id, status: 'created' })) });
const serverError = (message) => json(500, { error: { code: 'server_error', message } });

test('a poison record in a batch the server fails as a whole is set aside; the rest are stored', async () => {
  const alarm = record('alarm_raised', { priority: 0 });
  const check1 = record('check_in', { priority: 1 });
  const poison = record('check_in', { priority: 1 });
  const check3 = record('check_in', { priority: 1 });
  const incident = record('incident');
  const p = phone([incident, check3, poison, check1, alarm],
    (ids) => (ids.includes(poison.id) ? serverError('Could not store it (reference AB12).') : stored(ids)));

  const summary = await p.drain();
  assert.deepEqual(p.posted, [[alarm.id], [check1.id, poison.id, check3.id, incident.id],
                              [check1.id], [poison.id], [check3.id], [incident.id]]);
  assert.deepEqual(p.kept(), [poison.id]);
  const kept = p.outbox.store.get(poison.id);
  assert.equal(kept.status, 'pending');
  assert.equal(kept.failed_alone, true);
  assert.equal(kept.attempts, 1);
  assert.equal(kept.last_error, 'The server answered 500. Could not store it (reference AB12).');
  assert.equal(summary.state, 'error');
  assert.equal(summary.sent, 4);
  assert.equal(summary.waiting, 1);

  // The next drain: a new record goes before the set-aside one, which is tried alone, last.
  const later = record('incident');
  p.outbox.store.set(later.id, later);
  p.posted.length = 0;
  await p.drain();
  assert.deepEqual(p.posted, [[later.id], [poison.id]]);
  assert.deepEqual(p.kept(), [poison.id]);
  assert.equal(p.outbox.store.get(poison.id).attempts, 2);
});

test('status "error" for one record in a 200: it stays pending with the server\'s words, the others go', async () => {
  const a = record('incident');
  const bad = record('incident');
  const b = record('incident');
  const p = phone([a, bad, b], (ids) => json(200, { results: ids.map((id) => (id === bad.id
    ? { id, status: 'error', message: 'The server could not store this record (reference R-9).', reference: 'R-9' }
    : { id, status: 'created' })) }));
  const summary = await p.drain();
  assert.deepEqual(p.posted, [[a.id, bad.id, b.id]]);         // no record-by-record retry: it answered each
  assert.deepEqual(p.kept(), [bad.id]);
  const kept = p.outbox.store.get(bad.id);
  assert.equal(kept.status, 'pending');
  assert.equal(kept.failed_alone, true);
  assert.equal(kept.last_error, 'The server could not store this record (reference R-9).');
  assert.equal(kept.error_reference, 'R-9');
  assert.equal(summary.state, 'error');
  assert.equal(summary.sent, 2);
});

test('no connection part-way through stops the drain and keeps everything not confirmed', async () => {
  const a = record('incident');
  const b = record('incident');
  const c = record('incident');
  let calls = 0;
  const p = phone([a, b, c], () => {
    calls += 1;
    if (calls === 1) { return serverError('boom'); }
    throw new TypeError('Failed to fetch');
  });
  const summary = await p.drain();
  assert.equal(summary.state, 'offline');
  assert.deepEqual(p.posted, [[a.id, b.id, c.id], [a.id]]);
  assert.deepEqual(p.kept(), [a.id, b.id, c.id]);
  for (const r of p.outbox.store.values()) {
    assert.equal(r.status, 'pending');
    assert.equal(r.failed_alone, false);                          // no connection is no one's fault
    assert.equal(r.attempts, 1);
  }
  assert.match(p.outbox.store.get(a.id).last_error, /No answer from the server/);
  assert.match(p.outbox.store.get(b.id).last_error, /The server answered 500/);
});

test('401 stops the drain and keeps everything (signed out)', async () => {
  const alarm = record('alarm_raised', { priority: 0 });
  const a = record('incident');
  const p = phone([alarm, a], () => json(401, { error: { code: 'unauthorized', message: 'Sign in.' } }));
  const summary = await p.drain();
  assert.equal(summary.state, 'signed-out');
  assert.deepEqual(p.posted, [[alarm.id]]);
  assert.deepEqual(p.kept().sort(), [alarm.id, a.id].sort());
  assert.equal(p.outbox.store.get(alarm.id).failed_alone, false);
});

test('413 and a 200 that is not a results list are failures of the batch: sent again one by one', async () => {
  for (const failure of [() => json(413, { error: { code: 'too_large', message: 'Too big.' } }),
                         () => new Response('<html>Welcome</html>', { status: 200, headers: { 'Content-Type': 'text/html' } }),
                         () => json(200, { results: 'nope' })]) {
    const a = record('incident');
    const b = record('incident');
    const p = phone([a, b], (ids) => (ids.length > 1 ? failure() : stored(ids)));
    const summary = await p.drain();
    assert.deepEqual(p.posted, [[a.id, b.id], [a.id], [b.id]]);
    assert.deepEqual(p.kept(), []);
    assert.equal(summary.state, 'sent');
    assert.equal(summary.sent, 2);
  }
});

test('a server failing every request costs a bounded number of requests per drain, and loses nothing', async () => {
  const records = Array.from({ length: 120 }, () => record('incident'));
  const alarm = record('alarm_raised', { priority: 0 });
  const p = phone([alarm, ...records], () => serverError('Database unavailable.'));

  const first = await p.drain();
  // The alarm alone (it fails: one); then one batch of 50, and its records alone until
  // GIVE_UP_AFTER (3) have failed alone with nothing stored; then nothing more this drain.
  assert.deepEqual(p.posted.map((ids) => ids.length), [1, 50, 1, 1]);
  assert.equal(first.state, 'error');
  assert.equal(p.kept().length, 121);
  const aside = [...p.outbox.store.values()].filter((r) => r.failed_alone);
  assert.deepEqual(aside.map((r) => r.id).sort(), [alarm.id, ...records.slice(0, 2).map((r) => r.id)].sort());

  // Drain after drain: still bounded, and each drain tries records not tried alone before.
  const triedAlone = new Set();
  for (let n = 0; n < 5; n += 1) {
    p.posted.length = 0;
    await p.drain();
    assert.ok(p.posted.length <= 6, `drain ${n} sent ${p.posted.length} requests`);
    p.posted.filter((ids) => ids.length === 1).forEach((ids) => triedAlone.add(ids[0]));
    assert.equal(p.kept().length, 121);
  }
  assert.ok(triedAlone.has(alarm.id), 'the alarm is tried on every drain');
  assert.ok(triedAlone.size > 3);
});

test('poison records among good ones: every good one gets through in the same drain', async () => {
  const alarm = record('alarm_raised', { priority: 0 });
  const mixed = Array.from({ length: 8 }, () => record('incident'));
  const poisonIds = new Set([mixed[0].id, mixed[1].id, mixed[3].id, mixed[4].id, mixed[6].id]);
  const p = phone([alarm, ...mixed],
    (ids) => (ids.some((id) => poisonIds.has(id)) ? serverError('Poison.') : stored(ids)));
  const summary = await p.drain();
  assert.deepEqual(p.kept().sort(), [...poisonIds].sort());
  assert.equal(summary.sent, 4);                                   // the alarm and the three good ones
  assert.deepEqual(p.posted.slice(0, 2), [[alarm.id], mixed.map((r) => r.id)]);
  assert.equal(p.posted.length, 2 + mixed.length);                 // then each of the batch alone
});

test('the server failing part-way through a drain: three records alone, then it waits', async () => {
  const alarm = record('alarm_raised', { priority: 0 });
  const records = Array.from({ length: 40 }, () => record('incident'));
  let down = false;
  const p = phone([alarm, ...records], (ids) => {
    if (down) { return json(503, { error: { code: 'busy', message: 'The database is busy.' } }); }
    down = true;                                                   // it stores the alarm, then fails
    return stored(ids);
  });
  const summary = await p.drain();
  assert.deepEqual(p.posted.map((ids) => ids.length), [1, 40, 1, 1, 1]);
  assert.equal(summary.state, 'error');
  assert.deepEqual(p.kept().length, 40);
  const kept = [...p.outbox.store.values()];
  assert.equal(kept.filter((r) => r.failed_alone).length, 3);
  assert.ok(kept.every((r) => r.status === 'pending' && r.attempts === 1));
  assert.match(kept.find((r) => !r.failed_alone).last_error, /The server answered 503\. The database is busy\./);
});

test('four poison records first, nothing else stored yet: the record behind them goes on the next drain', async () => {
  const poisons = Array.from({ length: 4 }, () => record('incident'));
  const good = record('incident');
  const poisonIds = new Set(poisons.map((r) => r.id));
  const p = phone([...poisons, good],
    (ids) => (ids.some((id) => poisonIds.has(id)) ? serverError('Poison.') : stored(ids)));
  const first = await p.drain();
  assert.equal(first.state, 'error');
  assert.equal(p.posted.length, 4);                               // the batch, then three alone:
  assert.ok(p.kept().includes(good.id));                          // given up this time (looked like a server down)...
  p.posted.length = 0;
  await p.drain();
  assert.deepEqual(p.posted[0], [poisons[3].id, good.id]);        // ...first in line on the next drain
  assert.deepEqual(p.kept().sort(), [...poisonIds].sort());
});

test('an urgent record set aside is still tried when the drain has given up on ordinary ones', async () => {
  const alarm = record('alarm_raised', { priority: 0, failed_alone: true, last_attempt_at: 1 });
  const others = Array.from({ length: 5 }, () => record('incident'));
  const p = phone([alarm, ...others], (ids) => (ids.length === 1 && ids[0] === alarm.id ? stored(ids) : serverError('Down.')));
  const summary = await p.drain();
  assert.deepEqual(p.posted[p.posted.length - 1], [alarm.id]);
  assert.ok(!p.kept().includes(alarm.id));
  assert.equal(summary.state, 'error');
  assert.equal(p.kept().length, 5);
});

test('everything stored: the summary is as before (no extra keys)', async () => {
  const a = record('incident');
  const p = phone([a], stored);
  assert.deepEqual(await p.drain(), { state: 'sent', sent: 1, rejected: 0, user_id: USER, waiting: 0 });
});
