/* lw_state.js: the server's projection + this phone's own records, on the server's clock.
 * Run with `node --test tests/js/` (TZ=Europe/London, as test_node_units.py sets it). */
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const State = require('../../app/static/js/lw_state.js');

const MIN = 60000;
const SETTINGS = { grace_minutes: 5, due_soon_minutes: 10, clock_skew_limit_seconds: 300 };
const T0 = Date.parse('2026-06-10T09:00:00Z');   // 10:00 in London

function iso(ms) { return new Date(ms).toISOString(); }

function projection(fields) {
  return Object.assign({
    id: 'S1', status: 'active', place_label: 'Central Library · 12 Elm Road', check_in_interval_minutes: 30,
    started_at: iso(T0), planned_end_at: iso(T0 + 240 * MIN), next_check_in_due_at: iso(T0 + 30 * MIN),
    deadline_at: iso(T0 + 30 * MIN), overdue_at: iso(T0 + 35 * MIN), last_sequence: 0,
    last_check_in: null, last_contact: null, alert: null
  }, fields || {});
}

function record(type, at, data, id) {
  return { id: id || type + '-' + at, type: type, recorded_at: iso(at), data: data || {} };
}

test('with nothing waiting the server projection is shown as it is', () => {
  const view = State.merge({ server: projection(), settings: SETTINGS, offsetMs: 0, now: T0 + MIN, mine: [] });
  assert.equal(view.session.id, 'S1');
  assert.equal(view.session.deadline_at, T0 + 30 * MIN);
  assert.equal(view.session.overdue_at, T0 + 35 * MIN);   // deadline + grace: another instant
  assert.equal(view.session.deadline_kind, 'check_in');
  assert.equal(view.next_sequence, 1);
  assert.equal(view.session.from_phone, false);
});

test('a check-in waiting in the outbox moves the deadline on from when it was made', () => {
  const checkIn = record('check_in', T0 + 10 * MIN, { session_id: 'S1', sequence: '1' });
  const view = State.merge({ server: projection(), settings: SETTINGS, offsetMs: 0, now: T0 + 11 * MIN,
                             mine: [{ record: checkIn, state: 'pending' }] });
  assert.equal(view.session.last_check_in_at, T0 + 10 * MIN);
  assert.equal(view.session.deadline_at, T0 + 40 * MIN);
  assert.equal(view.session.overdue_at, T0 + 45 * MIN);
  assert.equal(view.next_sequence, 2);
});

test('a record the server has already counted (its sequence) is not applied twice', () => {
  const checkIn = record('check_in', T0 + 10 * MIN, { session_id: 'S1', sequence: '1' });
  const server = projection({ last_sequence: 1, next_check_in_due_at: iso(T0 + 40 * MIN), deadline_at: iso(T0 + 40 * MIN),
                              overdue_at: iso(T0 + 45 * MIN) });
  const view = State.merge({ server: server, settings: SETTINGS, offsetMs: 0, now: T0 + 50 * MIN,
                             mine: [{ record: checkIn, state: 'sent' }] });
  assert.equal(view.session.from_phone, false);
  assert.equal(view.session.deadline_at, T0 + 40 * MIN);
});

test('a start made offline shows a session with the server\'s rules: planned end, interval, grace', () => {
  const start = record('session_started', T0, { place_kind: 'home_visit', place: '12 Elm Road', planned_end_at: '12:30',
                                                 check_in_interval_minutes: '15', sequence: '0' }, 'S2');
  const view = State.merge({ server: null, settings: SETTINGS, offsetMs: 0, now: T0 + MIN,
                             mine: [{ record: start, state: 'pending', place_label: 'Central Library · 12 Elm Road' }] });
  assert.equal(view.session.id, 'S2');
  assert.equal(view.session.place_label, 'Central Library · 12 Elm Road');
  assert.equal(view.session.planned_end_at, Date.parse('2026-06-10T11:30:00Z'));   // 12:30 in London
  assert.equal(view.session.deadline_at, T0 + 15 * MIN);
  assert.equal(view.session.overdue_at, T0 + 20 * MIN);
  assert.equal(view.next_sequence, 1);
});

test('a phone 7 minutes slow places its own check-in at the server\'s time, as the server will', () => {
  const offset = 7 * MIN;                                    // server time minus the phone's clock
  const phoneNow = T0 + 10 * MIN - offset;                   // the phone's clock says 10:03 at 10:10
  const checkIn = record('check_in', phoneNow, { session_id: 'S1', sequence: '1' });
  const view = State.merge({ server: projection(), settings: SETTINGS, offsetMs: offset, now: phoneNow,
                             mine: [{ record: checkIn, state: 'pending' }] });
  assert.equal(view.session.last_check_in_at, T0 + 10 * MIN);
  assert.equal(view.session.deadline_at, T0 + 40 * MIN);
});

test('a phone clock within the skew limit is taken as it is, as the server takes it', () => {
  const offset = 2 * MIN;
  const phoneNow = T0 + 10 * MIN - offset;
  const checkIn = record('check_in', phoneNow, { session_id: 'S1', sequence: '1' });
  const view = State.merge({ server: projection(), settings: SETTINGS, offsetMs: offset, now: phoneNow,
                             mine: [{ record: checkIn, state: 'pending' }] });
  assert.equal(view.session.last_check_in_at, phoneNow);
});

test('an extension waiting on the phone adds to the planned end', () => {
  const server = projection({ planned_end_at: iso(T0 + 20 * MIN), deadline_at: iso(T0 + 20 * MIN), overdue_at: iso(T0 + 25 * MIN) });
  const extend = record('session_extended', T0 + 5 * MIN, { session_id: 'S1', sequence: '1', extend_by_minutes: '60' });
  const view = State.merge({ server: server, settings: SETTINGS, offsetMs: 0, now: T0 + 6 * MIN,
                             mine: [{ record: extend, state: 'pending' }] });
  assert.equal(view.session.planned_end_at, T0 + 80 * MIN);
  assert.equal(view.session.deadline_at, T0 + 30 * MIN);   // the check-in is now first
  assert.equal(view.session.deadline_kind, 'check_in');
});

test('a finish waiting on the phone ends the session on the phone; a refused one does not', () => {
  const finish = record('session_finished', T0 + 5 * MIN, { session_id: 'S1', sequence: '1' });
  const finished = State.merge({ server: projection(), settings: SETTINGS, offsetMs: 0, now: T0 + 6 * MIN,
                                 mine: [{ record: finish, state: 'pending' }] });
  assert.equal(finished.session, null);
  assert.equal(finished.finished, true);
  const refused = Object.assign({}, finish, { errors: { pin: ['That PIN is not right. Your session is still running.'] } });
  const running = State.merge({ server: projection(), settings: SETTINGS, offsetMs: 0, now: T0 + 6 * MIN,
                                mine: [{ record: refused, state: 'rejected' }] });
  assert.equal(running.session.id, 'S1');
  assert.equal(running.finished, false);
  assert.match(running.notice, /^Your finish was NOT accepted: That PIN is not right/);
  assert.equal(running.next_sequence, 2);   // the refused finish used number 1
});

test('a start the server refused shows no session and says why', () => {
  const start = Object.assign(record('session_started', T0, { place_kind: 'home_visit', duration_minutes: '60',
                                                               check_in_interval_minutes: '30' }, 'S3'),
                              { errors: { place: ['Say where: the route or stop, the address, or a short description.'] } });
  const view = State.merge({ server: null, settings: SETTINGS, offsetMs: 0, now: T0, mine: [{ record: start, state: 'rejected' }] });
  assert.equal(view.session, null);
  assert.match(view.notice, /^Your session did NOT start: Say where/);
});

test('events of another session and incidents are ignored', () => {
  const other = record('check_in', T0 + 5 * MIN, { session_id: 'OLD', sequence: '4' });
  const incident = record('incident', T0 + 5 * MIN, { description: 'x' });
  const view = State.merge({ server: projection(), settings: SETTINGS, offsetMs: 0, now: T0 + 6 * MIN,
                             mine: [{ record: other, state: 'pending' }, { record: incident, state: 'pending' }] });
  assert.equal(view.session.deadline_at, T0 + 30 * MIN);
  assert.equal(view.next_sequence, 1);
});

test('the offset is server time minus the middle of the round trip', () => {
  assert.equal(State.offsetFrom('2026-06-10T09:07:00.500000+00:00', T0 - 1000, T0 + 1000), 7 * MIN + 500);
  assert.equal(State.offsetFrom('not a time', T0, T0), null);
});

test('the worker is told plainly when the phone clock is more than a minute out', () => {
  assert.equal(State.clockWarning(7 * MIN), 'Your phone\u2019s clock is 7 minutes slow. Times here follow the server.');
  assert.equal(State.clockWarning(-3 * MIN), 'Your phone\u2019s clock is 3 minutes fast. Times here follow the server.');
  assert.equal(State.clockWarning(59 * 1000), null);
  assert.equal(State.clockWarning(-60 * 1000), null);
  assert.match(State.clockWarning(3 * 60 * MIN), /^Your phone’s clock is 3 h 00 min slow\./);
});
