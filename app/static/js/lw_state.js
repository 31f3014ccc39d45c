/* SaferLwState: the worker's lone-working state on the phone = the server's projection
 * (GET /api/v1/lone-working/session) + only what this phone made that the server cannot have
 * counted yet (its own records still in the outbox, or sent since the projection was read).
 * Every rule comes from SaferRules (lw_rules.js, lw_words.js); nothing here decides that the worker is safe.
 *
 * Server time: each answer carries server_time; offset = server_time - the phone's clock at the
 * answer (the middle of the round trip). Every countdown runs on Date.now() + offset, and a
 * phone's own record is placed in time the way the server will place it (effectiveTime).
 *
 * Pure part (Node tests: tests/js/lw_state.test.js): offsetFrom, clockWarning, merge.
 * Browser part: SaferLwState.current() -> view, .serverNow(), .remember(saved), .refresh(),
 * .redraw(), .takeSequence() -> {session_id, sequence} | null, .onChange(fn). Stored per signed-in user in localStorage (other users' keys removed), so the
 * last projection and offset are there with no signal.
 */
(function (root) {
  'use strict';

  var Rules = root.SaferRules || (typeof require === 'function' ? require('./lw_words.js') : null);
  var LW_TYPES = { session_started: 1, check_in: 1, session_extended: 1, session_finished: 1, alarm_raised: 1 };
  var CLOCK_WARN_MS = 60000;                 // a phone clock further off than this is mentioned
  var DEFAULT_SETTINGS = { grace_minutes: 5, due_soon_minutes: 10, clock_skew_limit_seconds: 300 };

  /* server_time minus the phone's clock, taken at the middle of the round trip. */
  function offsetFrom(serverTime, askedAt, answeredAt) {
    var server = Rules.instant(serverTime);
    if (server === null) { return null; }
    return Math.round(server - (askedAt + answeredAt) / 2);
  }

  /* Words for a phone clock more than a minute out; null when it is close enough. */
  function clockWarning(offsetMs) {
    if (offsetMs === null || offsetMs === undefined || Math.abs(offsetMs) <= CLOCK_WARN_MS) { return null; }
    var minutes = Math.round(Math.abs(offsetMs) / 60000);
    var amount = minutes < 60 ? minutes + (minutes === 1 ? ' minute' : ' minutes') : Rules.formatDuration(Math.abs(offsetMs));
    return 'Your phone\u2019s clock is ' + amount + (offsetMs > 0 ? ' slow' : ' fast') + '. Times here follow the server.';
  }

  function reasons(record) {
    var errors = (record && record.errors) || {};
    var lines = [];
    Object.keys(errors).forEach(function (name) {
      [].concat(errors[name]).forEach(function (message) {
        lines.push(typeof message === 'string' ? message : JSON.stringify(message));
      });
    });
    return lines.join(' ');
  }

  function fromServer(s) {
    return {
      id: String(s.id), place_label: s.place_label || '', interval: s.check_in_interval_minutes || null,
      started_at: Rules.instant(s.started_at), planned_end_at: Rules.instant(s.planned_end_at),
      next_check_in_due_at: Rules.instant(s.next_check_in_due_at), deadline_at: Rules.instant(s.deadline_at),
      overdue_at: Rules.instant(s.overdue_at),
      last_check_in_at: s.last_check_in ? Rules.instant(s.last_check_in.phone_time) : null,
      last_sequence: s.last_sequence || 0, alert: s.alert || null, from_phone: false
    };
  }

  /* Recompute the derived instants after this phone changed the session. */
  function derive(session, settings) {
    session.deadline_at = Rules.deadline(session.next_check_in_due_at, session.planned_end_at);
    session.overdue_at = session.deadline_at === null ? null : Rules.overdueTime(session.deadline_at, settings.grace_minutes);
    session.from_phone = true;
  }

  /* The server's projection plus this phone's own records, in the order they were made.
   *
   * input: {server: projection session or null, settings, offsetMs, now (the phone's clock),
   *         mine: [{record, state: 'pending' | 'rejected' | 'sent', place_label}]}
   * 'sent' means it left the outbox after the projection was read (so it may not be counted).
   * Answers {session, next_sequence, finished, notice, last_action}. */
  function merge(input) {
    var settings = input.settings || DEFAULT_SETTINGS;
    var offset = input.offsetMs || 0;
    var serverNow = (input.now || 0) + offset;
    var server = input.server ? fromServer(input.server) : null;
    var session = server;
    var out = { finished: false, notice: null, last_action: null };
    var highest = {};   // the highest sequence this phone used, per session (rejected ones too)
    var skewSeconds = offset / 1000;

    function when(record) {
      var recorded = Rules.instant(record.recorded_at);
      // Not yet received: the server will hear it no earlier than now.
      return Rules.effectiveTime(recorded, Math.max(serverNow, recorded), skewSeconds, settings.clock_skew_limit_seconds);
    }

    var entries = (input.mine || []).filter(function (e) { return e && e.record && LW_TYPES[e.record.type]; })
      .map(function (e) { return { e: e, at: when(e.record), seq: parseInt((e.record.data || {}).sequence, 10) || 0 }; })
      .sort(function (a, b) { return (a.at - b.at) || (a.seq - b.seq); });

    entries.forEach(function (item) {
      var entry = item.e;
      var record = entry.record;
      var data = record.data || {};
      var at = item.at;
      var sid = data.session_id ? String(data.session_id) : (record.type === 'session_started' ? record.id : '');
      if (sid) { highest[sid] = Math.max(highest[sid] || 0, item.seq); }
      out.last_action = { type: record.type, record_id: record.id, at: at, state: entry.state };
      if (entry.state === 'rejected') {
        if (record.type === 'session_started') {
          out.notice = 'Your session did NOT start: ' + (reasons(record) || 'the server did not accept it.') + ' Start again below.';
          if (session && session.id === record.id) { session = null; }
        } else if (record.type === 'session_finished') {
          out.notice = 'Your finish was NOT accepted: ' + (reasons(record) || 'the server refused it.') +
            ' Your session is still running: check in, or finish again with your PIN.';
          out.finished = false;
        }
        return;
      }
      if (record.type === 'session_started') {
        if (session && session.id === record.id) { return; }   // the server has it
        var interval = parseInt(data.check_in_interval_minutes, 10) || null;
        var end = data.planned_end_at ? Rules.resolvePlannedEnd(data.planned_end_at, at)
          : (data.duration_minutes ? at + parseInt(data.duration_minutes, 10) * 60000 : null);
        session = { id: record.id, place_label: entry.place_label || data.place || '', interval: interval,
                    started_at: at, planned_end_at: end, next_check_in_due_at: interval ? Rules.nextCheckInDue(at, interval) : null,
                    last_check_in_at: null, last_sequence: 0, alert: null };
        derive(session, settings);
        out.finished = false;
        out.notice = null;
        return;
      }
      if (!session || sid !== session.id) { return; }
      if (server && server.id === session.id && item.seq && item.seq <= server.last_sequence) { return; }  // counted
      if (record.type === 'check_in') {
        session.last_check_in_at = at;
        if (session.interval) { session.next_check_in_due_at = Rules.nextCheckInDue(at, session.interval); }
        derive(session, settings);
      } else if (record.type === 'session_extended' && data.extend_by_minutes) {
        session.planned_end_at = Rules.extendedEnd(session.planned_end_at, at, parseInt(data.extend_by_minutes, 10));
        derive(session, settings);
      } else if (record.type === 'session_finished') {
        session = null;
        out.finished = true;
        out.notice = null;
      }
    });
    if (session) {
      session.deadline_kind = Rules.deadlineKind(session.next_check_in_due_at, session.planned_end_at);
      session.last_sequence = Math.max(session.last_sequence || 0, highest[session.id] || 0);
    }
    out.session = session;
    out.next_sequence = session ? session.last_sequence + 1 : 0;
    return out;
  }

  var pure = { offsetFrom: offsetFrom, clockWarning: clockWarning, merge: merge, reasons: reasons, LW_TYPES: LW_TYPES };
  if (typeof module !== 'undefined' && module.exports) { module.exports = pure; }
  if (typeof document === 'undefined' || !root.SaferPage || !root.SaferPage.userId) {
    root.SaferLwState = pure;
    return;
  }

  /* ---------- the browser: what this phone remembers, and the server's answers ---------- */

  var PREFIX = 'safer-lw2:';
  var REFRESH_MS = 60000;
  var page = root.SaferPage;
  var KEY = PREFIX + page.userId;
  var stored = load();
  var view = null;
  var listeners = [];
  var reserved = {};

  function load() {
    try {
      for (var i = localStorage.length - 1; i >= 0; i -= 1) {   // a shared phone: only this person's
        var key = localStorage.key(i);
        if (key && key.indexOf(PREFIX) === 0 && key !== KEY) { localStorage.removeItem(key); }
      }
      var value = JSON.parse(localStorage.getItem(KEY) || '{}');
      return value && typeof value === 'object' ? value : {};
    } catch (error) { return {}; }
  }

  function save() { try { localStorage.setItem(KEY, JSON.stringify(stored)); } catch (error) { /* kept in memory */ } }

  stored.journal = stored.journal || [];

  function serverNow() { return Date.now() + (stored.offset_ms || 0); }

  function outboxRecords() {
    if (!page.hasOutbox) { return Promise.resolve([]); }
    return SaferOutbox.list(page.userId).then(function (records) {
      return records.filter(function (r) { return LW_TYPES[r.type]; });
    }, function () { return []; });
  }

  /* This phone's records: in the outbox (pending or refused), or sent since the projection. */
  /* This phone's records: the page's journal and the outbox. records === null: the outbox has not
   * answered yet, so a journal entry's state is 'unknown', never 'sent'. */
  function mine(records) {
    var known = records !== null;
    var byId = {};
    (records || []).forEach(function (r) { byId[r.id] = r; });
    var entries = stored.journal.map(function (j) {
      var here = byId[j.record.id];
      if (here && here.status === 'rejected') { j.rejected = true; }
      var record = here || j.record;
      delete byId[j.record.id];
      var state = j.rejected ? 'rejected' : (here ? 'pending' : (known ? 'sent' : 'unknown'));
      return { record: record, place_label: j.place_label, state: state };
    });
    Object.keys(byId).forEach(function (id) {
      entries.push({ record: byId[id], state: byId[id].status === 'rejected' ? 'rejected' : 'pending' });
    });
    return entries;
  }

  function recompute(records) {
    view = merge({ server: stored.projection || null, settings: stored.settings, offsetMs: stored.offset_ms || 0,
                   now: Date.now(), mine: mine(records) });
    view.clock_warning = clockWarning(stored.offset_ms);
    view.last_done = records === null ? null : lastDone(records);
    if (view.session) {
      view.next_sequence = Math.max(view.next_sequence, (reserved[view.session.id] || 0) + 1);
    }
    view.settings = stored.settings || DEFAULT_SETTINGS;
    listeners.forEach(function (fn) { fn(view); });
    return view;
  }

  /* The last thing done on this phone, and where it stands: waiting here, refused, or sent. */
  function lastDone(records) {
    var action = stored.last_action;
    if (!action) { return null; }
    var here = records.filter(function (r) { return r.id === action.record_id; })[0];
    var state = !here ? 'sent' : (here.status === 'rejected' ? 'rejected' : 'pending');
    return { type: action.type, at: action.at, state: state, reasons: here ? reasons(here) : '' };
  }

  /* The sequence number for an event about to be saved: never one already given out, even
   * while an earlier save still waits for the server's answer. */
  function takeSequence() {
    if (!view || !view.session) { return null; }
    var sid = view.session.id;
    var next = Math.max(view.next_sequence, (reserved[sid] || 0) + 1);
    reserved[sid] = next;
    return { session_id: sid, sequence: next };
  }

  /* Ask the server (null with no signal, signed out, or an answer that is not ours). */
  function fetchProjection() {
    var askedAt = Date.now();
    return fetch('/api/v1/lone-working/session', { credentials: 'same-origin', cache: 'no-store', redirect: 'manual',
                                                   headers: { Accept: 'application/json' } })
      .then(function (response) {
        if (response.status !== 200) { return null; }
        return response.json().then(function (body) {
          return body && 'session' in body && body.server_time ? { body: body, askedAt: askedAt, answeredAt: Date.now() } : null;
        }, function () { return null; });
      }, function () { return null; });
  }

  var refreshing = null;

  /* Read the outbox; ask the server; draw. What had left the outbox before the question was
   * asked is in the server's answer, so it is dropped from the journal once the answer comes. */
  function refresh() {
    if (refreshing) { return refreshing; }
    refreshing = outboxRecords().then(function (before) {
      var waiting = {};
      before.forEach(function (r) { waiting[r.id] = true; });
      var settled = stored.journal.filter(function (j) { return !waiting[j.record.id]; })
        .map(function (j) { return j.record.id; });
      recompute(before);
      return fetchProjection().then(function (answer) {
        if (answer) {
          stored.projection = answer.body.session;
          stored.settings = answer.body.settings || stored.settings;
          var offset = offsetFrom(answer.body.server_time, answer.askedAt, answer.answeredAt);
          if (offset !== null) { stored.offset_ms = offset; }
          stored.journal = stored.journal.filter(function (j) { return settled.indexOf(j.record.id) === -1; });
          save();
        }
        return outboxRecords().then(recompute);
      });
    }).finally(function () { refreshing = null; });
    return refreshing;
  }

  /* A record this page just kept (sent or waiting): counted at once, before any answer. */
  function remember(saved) {
    var record = saved.record;
    stored.journal = stored.journal.filter(function (j) { return j.record.id !== record.id; }).concat([{
      record: { id: record.id, type: record.type, recorded_at: record.recorded_at, data: record.data },
      place_label: saved.place_label || '', rejected: saved.outcome === 'rejected'
    }]).slice(-50);
    stored.last_action = { type: record.type, record_id: record.id, at: serverNow() };
    save();
    return outboxRecords().then(recompute);
  }

  /* Draw again from what is stored (another tab may have changed it). */
  /* Draw at once from what localStorage holds (the server's last projection and the journal),
   * before IndexedDB answers: a reload with no signal opens on the right screen, not the start
   * form for a moment. Nothing is said to be sent until the outbox has been read. */
  function drawFromStore() { return recompute(null); }

  function redraw() {
    stored = load();
    stored.journal = stored.journal || [];
    return outboxRecords().then(recompute);
  }

  root.SaferLwState = {
    offsetFrom: offsetFrom, clockWarning: clockWarning, merge: merge, reasons: reasons, LW_TYPES: LW_TYPES,
    current: function () { return view; }, serverNow: serverNow, remember: remember, refresh: refresh,
    takeSequence: takeSequence,
    redraw: redraw, drawFromStore: drawFromStore, onChange: function (fn) { listeners.push(fn); },
    store: function () { return stored; }, save: save
  };
  page.on('drained', function () { refresh(); });
  page.on('worker-drained', function () { refresh(); });
  setInterval(function () { if (document.visibilityState === 'visible') { refresh(); } }, REFRESH_MS);
}(typeof self !== 'undefined' ? self : this));
