/* Lone working on the phone: the status screen with no signal, reminders, and the alarm.
 *
 * Loaded (defer) by the lone-working pages after outbox.js, sync.js and app.js. app.js sends
 * every <form data-outbox-type> through the outbox and then fires 'outbox:saved'
 * ({record, sent}); this file listens for it and keeps the worker's current session on the
 * phone (localStorage, one key per signed-in user), so the status screen, the countdown and
 * the session id and sequence of the next event are right even when the page itself is an
 * old copy kept by the service worker.
 *
 * What it never does: decide that the worker is safe. The server decides overdue from its own
 * clock; everything here only helps the worker check in on time and raise an alarm.
 */
(function () {
  'use strict';

  var STORE_PREFIX = 'safer-lw:';
  var REMIND_MINUTES = [5, 1];          // vibrate and notify this long before a deadline
  var POSITION_MAX_AGE_MS = 15 * 60000; // an older fix is not sent with an event
  var POSITION_TIMEOUT_MS = 8000;
  var HOLD_MS_DEFAULT = 3000;

  var body = document.body;
  var userId = body.dataset.userId || '';
  var userName = body.dataset.userName || '';
  if (!userId) { return; }              // signed-out pages name no one and keep nothing
  var KEY = STORE_PREFIX + userId;
  var hasOutbox = !!(window.SaferOutbox && window.indexedDB);

  function $(id) { return document.getElementById(id); }

  /* ---------- time ---------- */

  /* An ISO time from the server (Python's isoformat may carry microseconds) as milliseconds. */
  function parseTime(text) {
    if (!text) { return null; }
    var trimmed = String(text).replace(/(\.\d{3})\d+/, '$1');
    var ms = Date.parse(trimmed);
    return isNaN(ms) ? null : ms;
  }

  function pad(n) { return (n < 10 ? '0' : '') + n; }

  function clockText(ms) {
    var date = new Date(ms);
    return pad(date.getHours()) + ':' + pad(date.getMinutes());
  }

  /* "1 h 05 min", "4 min 05 s", "40 s": a countdown that still reads well at a glance. */
  function durationText(ms) {
    var seconds = Math.floor(Math.abs(ms) / 1000);
    if (seconds < 60) { return seconds + ' s'; }
    var minutes = Math.floor(seconds / 60);
    if (minutes < 60) { return minutes + ' min ' + pad(seconds % 60) + ' s'; }
    var hours = Math.floor(minutes / 60);
    var days = Math.floor(hours / 24);
    var text = (hours % 24) + ' h ' + pad(minutes % 60) + ' min';
    return days ? days + ' d ' + text : text;
  }

  /* "HH:MM" as the next time the phone's clock shows it after `after` (a finish time before
   * now means tomorrow, as the server reads it). */
  function nextWallClock(value, after) {
    var match = /^(\d{1,2}):(\d{2})/.exec(value || '');
    if (!match) { return null; }
    var date = new Date(after);
    date.setHours(+match[1], +match[2], 0, 0);
    while (date.getTime() <= after) { date.setDate(date.getDate() + 1); }
    return date.getTime();
  }

  /* ---------- what this phone remembers (one key per user; other users' keys are removed) ---------- */

  function forgetOtherUsers() {
    try {
      for (var i = localStorage.length - 1; i >= 0; i -= 1) {
        var key = localStorage.key(i);
        if (key && key.indexOf(STORE_PREFIX) === 0 && key !== KEY) { localStorage.removeItem(key); }
      }
    } catch (error) { /* storage blocked: the page still works from the server's copy */ }
  }

  function load() {
    try {
      var state = JSON.parse(localStorage.getItem(KEY) || '{}');
      return state && typeof state === 'object' ? state : {};
    } catch (error) {
      return {};
    }
  }

  var state = {};

  function save() {
    state.updated_at = Date.now();
    try { localStorage.setItem(KEY, JSON.stringify(state)); } catch (error) { /* kept in memory */ }
  }

  /* ---------- the server's view: from this page (maybe an old copy) or fetched fresh ---------- */

  function readServer(doc) {
    var section = doc.getElementById('lw-status');
    var form = doc.getElementById('lw-alarm-form');
    if (section) {
      var d = section.dataset;
      return {
        id: d.sessionId || '',
        next_due: parseTime(d.nextCheckInDue),
        planned_end: parseTime(d.plannedEnd),
        last_check_in: parseTime(d.lastCheckIn),
        interval_minutes: parseInt(d.intervalMinutes, 10) || null,
        last_sequence: parseInt(d.lastSequence, 10),
        place: d.placeLabel || '',
        due_soon_minutes: parseInt(d.dueSoonMinutes, 10) || 10
      };
    }
    var sessionField = form && form.querySelector('input[name="session_id"]');
    var sequenceField = form && form.querySelector('input[name="sequence"]');
    return { id: sessionField ? sessionField.value : '', place: '',
             last_sequence: (parseInt(sequenceField && sequenceField.value, 10) || 0) - 1, due_soon_minutes: 10 };
  }

  var dueSoonMinutes = readServer(document).due_soon_minutes;

  /* The server's page, asked fresh (a plain fetch: the service worker answers only navigations,
   * so this is the server or nothing). Null with no signal or when signed out. */
  function fetchServerView() {
    if (!window.fetch || !window.DOMParser) { return Promise.resolve(null); }
    return fetch('/lone-working/', { credentials: 'same-origin', cache: 'no-store', redirect: 'manual',
                                     headers: { Accept: 'text/html' } })
      .then(function (response) {
        if (response.status !== 200 || response.type === 'opaqueredirect') { return null; }
        return response.text().then(function (html) {
          var doc = new DOMParser().parseFromString(html, 'text/html');
          var owner = doc.body && doc.body.dataset.userId;
          if (!doc.getElementById('lw-status') || String(owner) !== String(userId)) { return null; }
          return readServer(doc);
        });
      })
      .catch(function () { return null; });
  }

  function sessionFromServer(view) {
    return {
      id: view.id, place: view.place, interval_minutes: view.interval_minutes,
      planned_end: view.planned_end, next_due: view.next_due, last_check_in: view.last_check_in,
      last_sequence: isNaN(view.last_sequence) ? 0 : view.last_sequence, started: null
    };
  }

  /* The same session seen by the server and by this phone: whichever knows more, per fact. */
  function mergeServer(local, view) {
    // A check-in made here and not yet sent, or one the server has: the later due time stands.
    local.next_due = Math.max(local.next_due || 0, view.next_due || 0) || null;
    local.planned_end = Math.max(local.planned_end || 0, view.planned_end || 0) || null;
    local.last_check_in = Math.max(local.last_check_in || 0, view.last_check_in || 0) || null;
    if (!isNaN(view.last_sequence)) { local.last_sequence = Math.max(local.last_sequence || 0, view.last_sequence); }
    if (view.place) { local.place = view.place; }
    if (view.interval_minutes) { local.interval_minutes = view.interval_minutes; }
  }

  function outboxRecord(id) {
    if (!hasOutbox || !id) { return Promise.resolve(null); }
    return SaferOutbox.get(id).then(function (record) {
      return record && String(record.user_id) === String(userId) ? record : null;
    }, function () { return null; });
  }

  function myRecords() {
    if (!hasOutbox) { return Promise.resolve([]); }
    return SaferOutbox.list(userId).catch(function () { return []; });
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

  /* Bring a view of the server and this phone's memory together.
   *
   * `fresh` says the view was just fetched from the server; otherwise it is this page, which
   * may be a copy the service worker kept hours ago, so it never overrides what this phone
   * knows. Only a fresh view can say that a session this phone knows has ended elsewhere. */
  function reconcile(view, fresh) {
    state = load();
    state.finished = state.finished || [];
    var local = state.session || null;
    var viewId = view.id;
    // A finish made on this phone outranks a view that still shows the session (not sent yet).
    if (viewId && state.finished.indexOf(viewId) !== -1) { viewId = ''; }
    return Promise.all([outboxRecord(local && local.id), myRecords()]).then(function (found) {
      var start = found[0];
      var records = found[1];
      var startWaits = !!(start && start.status === 'pending');
      // The server refused this phone's start: there is no session, and the worker must know.
      if (local && start && start.status === 'rejected') {
        state.notice = 'Your session did NOT start: ' + (reasons(start) || 'the server did not accept it.') +
          ' Start again below.';
        state.session = local = null;
      }
      // The server refused a finish (a PIN that was not right): the session is still running.
      var refusedFinish = records.filter(function (record) {
        return record.type === 'session_finished' && record.status === 'rejected' && state.finished_session &&
          record.data && record.data.session_id === state.finished_session.id;
      })[0];
      if (refusedFinish && !local) {
        local = state.session = state.finished_session;
        state.finished = state.finished.filter(function (id) { return id !== local.id; });
        state.finished_session = null;
        state.notice = 'Your finish was NOT accepted: ' + (reasons(refusedFinish) || 'the server refused it.') +
          ' Your session is still running: check in, or finish again with your PIN.';
        if (viewId === '' && view.id === local.id) { viewId = local.id; }
      }
      if (viewId) {
        if (!local) { state.session = sessionFromServer(view); }
        else if (local.id === viewId) { mergeServer(local, view); }
        else if (fresh && !startWaits) { state.session = sessionFromServer(view); }   // a newer session, started elsewhere
      } else if (local && fresh && !startWaits) {
        state.session = null;   // the server has the start and no running session: it ended elsewhere
      }
      save();
      return state;
    });
  }

  /* ---------- the status screen ---------- */

  function setText(node, text) { if (node && node.textContent !== text) { node.textContent = text; } }

  function deadlineOf(session) {
    if (!session) { return null; }
    var due = session.next_due;
    var end = session.planned_end;
    if (due && end) { return end < due ? { at: end, kind: 'end' } : { at: due, kind: 'check_in' }; }
    if (due) { return { at: due, kind: 'check_in' }; }
    if (end) { return { at: end, kind: 'end' }; }
    return null;
  }

  function intervalText(minutes) {
    if (!minutes) { return ''; }
    if (minutes < 60) { return 'every ' + minutes + ' minutes'; }
    if (minutes % 60 === 0) { return minutes === 60 ? 'every hour' : 'every ' + (minutes / 60) + ' hours'; }
    return 'every ' + Math.floor(minutes / 60) + ' h ' + (minutes % 60) + ' min';
  }

  var ACTION_WORDS = {
    session_started: 'Started', check_in: 'Checked in', session_extended: 'Extended',
    session_finished: 'Finished', alarm_raised: 'Alarm raised'
  };

  function fillSessionFields() {
    var session = state.session;
    var forms = ['lw-check-in-form', 'lw-extend-form', 'lw-finish-form', 'lw-alarm-form'];
    forms.forEach(function (id) {
      var form = $(id);
      if (!form) { return; }
      var sessionField = form.querySelector('input[name="session_id"]');
      var sequenceField = form.querySelector('input[name="sequence"]');
      if (sessionField) {
        if (session) { sessionField.value = session.id; }
        else if (id === 'lw-alarm-form' && state.finished.indexOf(sessionField.value) !== -1) { sessionField.value = ''; }
      }
      if (sequenceField && session) { sequenceField.value = String((session.last_sequence || 0) + 1); }
    });
  }

  function render() {
    var statusSection = $('lw-status');
    var startSection = $('lw-start');
    var session = state.session;
    fillSessionFields();
    var notice = $('lw-notice');
    if (notice) {
      notice.hidden = !state.notice;
      setText(notice, state.notice || '');
    }
    if (!statusSection || !startSection) { return; }
    statusSection.hidden = !session;
    startSection.hidden = !!session;
    if (!session) { return; }
    setText($('lw-status-title'), 'Lone working' + (session.place ? ': ' + session.place : ''));
    var planned = $('lw-planned-end');
    var plannedText = session.planned_end ? 'Planned end: ' + clockText(session.planned_end) : 'Planned end: not known yet';
    if (session.interval_minutes) { plannedText += ' \u00b7 check in ' + intervalText(session.interval_minutes); }
    setText(planned, plannedText);
    var last = $('lw-last-check-in');
    if (last) {
      last.hidden = !session.last_check_in;
      if (session.last_check_in) { setText(last, 'Last check-in: ' + clockText(session.last_check_in)); }
    }
    tick();
    renderLastAction();
  }

  /* Whether the last thing done on this phone was sent or still waits here. */
  function renderLastAction() {
    var node = $('lw-last-action');
    var action = state.last_action;
    if (!node) { return Promise.resolve(); }
    if (!action) { node.hidden = true; return Promise.resolve(); }
    return outboxRecord(action.record_id).then(function (record) {
      var words = (ACTION_WORDS[action.type] || 'Saved') + ' at ' + clockText(action.at);
      var status;
      if (!record) { status = 'sent'; words += ' \u2014 sent'; }
      else if (record.status === 'rejected') { status = 'rejected'; words += ' \u2014 NOT accepted: ' + (reasons(record) || 'see "On this phone"'); }
      else { status = 'waiting'; words += ' \u2014 waiting on this phone, will send when you have signal'; }
      node.hidden = false;
      node.dataset.status = status;
      setText(node, words);
    });
  }

  /* ---------- the countdown and the reminders ---------- */

  function tick() {
    var session = state.session;
    var due = $('lw-next-due');
    if (!session || !due) { return; }
    var deadline = deadlineOf(session);
    if (!deadline) { setText(due, 'Check in when you can.'); return; }
    var left = deadline.at - Date.now();
    var text;
    if (left >= 0) {
      text = deadline.kind === 'end'
        ? 'Planned end in ' + durationText(left) + ', at ' + clockText(deadline.at) + '. Finish or extend.'
        : 'Next check-in due in ' + durationText(left) + ', at ' + clockText(deadline.at);
    } else {
      text = deadline.kind === 'end'
        ? 'Your planned end was ' + durationText(left) + ' ago, at ' + clockText(deadline.at) + '. Finish or extend now.'
        : 'Check-in was due ' + durationText(left) + ' ago, at ' + clockText(deadline.at) + '. Tap "I\'m OK" now.';
    }
    setText(due, text);
    var urgency = left < 0 ? 'overdue' : (left < dueSoonMinutes * 60000 ? 'due_soon' : 'fine');
    if (due.dataset.urgency !== urgency) { due.dataset.urgency = urgency; }
    var card = due.closest('.lw-status-card');
    if (card && card.dataset.urgency !== urgency) { card.dataset.urgency = urgency; }
    remind(deadline, left);
  }

  function remind(deadline, left) {
    state.reminded = state.reminded || [];
    var steps = REMIND_MINUTES.concat([0]);
    var fire = null;
    steps.forEach(function (minutes) {
      var key = deadline.kind + '@' + deadline.at + '-' + minutes;
      if (left <= minutes * 60000 && state.reminded.indexOf(key) === -1) {
        state.reminded.push(key);
        fire = minutes;   // the nearest threshold crossed: one reminder, not three at once
      }
    });
    if (fire === null) { return; }
    state.reminded = state.reminded.slice(-30);
    save();
    if (left < -60000) { return; }   // long past (an old session on a reopened page): the screen says it
    var title;
    if (fire === 0) { title = deadline.kind === 'end' ? 'Your planned end has passed' : 'Check-in due now'; }
    else { title = (deadline.kind === 'end' ? 'Planned end in ' : 'Check-in due in ') + fire + (fire === 1 ? ' minute' : ' minutes'); }
    var text = deadline.kind === 'end' ? 'Open Safer Libraries to finish or extend.' : 'Open Safer Libraries and tap "I\'m OK".';
    try { if (navigator.vibrate) { navigator.vibrate([400, 200, 400, 200, 400]); } } catch (error) { /* not allowed */ }
    showNotification(title, text);
  }

  function showNotification(title, text) {
    if (!('Notification' in window) || Notification.permission !== 'granted' || !navigator.serviceWorker) { return; }
    navigator.serviceWorker.ready.then(function (registration) {
      return registration.showNotification(title, {
        body: text, tag: 'safer-lone-working', renotify: true, requireInteraction: true,
        icon: '/static/icons/icon-192.png', vibrate: [400, 200, 400], data: { url: '/lone-working/' }
      });
    }).catch(function () { /* the countdown and the vibration still say it */ });
  }

  /* Asked from a tap (the browser refuses to ask otherwise). */
  function askNotificationPermission() {
    if (!('Notification' in window) || Notification.permission !== 'default') { return; }
    try {
      var asked = Notification.requestPermission();
      if (asked && asked.catch) { asked.catch(function () { /* declined */ }); }
    } catch (error) { /* old API shape: ignored */ }
  }

  /* ---------- where the worker is (only when they allowed it; never waited for) ---------- */

  function rememberPosition(position) {
    state.position = {
      latitude: position.coords.latitude, longitude: position.coords.longitude,
      accuracy: position.coords.accuracy, at: Date.now()
    };
    save();
    updateSmsLink();
  }

  function refreshPosition() {
    if (!navigator.geolocation) { return; }
    try {
      navigator.geolocation.getCurrentPosition(rememberPosition, function () { /* no fix: none is sent */ },
        { enableHighAccuracy: true, maximumAge: 60000, timeout: POSITION_TIMEOUT_MS });
    } catch (error) { /* not available here */ }
  }

  /* Refresh the fix in the background only if the worker already allowed it (no prompt). */
  function refreshPositionIfAllowed() {
    if (!navigator.permissions || !navigator.geolocation) { return; }
    navigator.permissions.query({ name: 'geolocation' }).then(function (status) {
      if (status.state === 'granted') { refreshPosition(); }
    }).catch(function () { /* unknown: ask only from a tap */ });
  }

  function freshPosition() {
    var position = state.position;
    return position && Date.now() - position.at <= POSITION_MAX_AGE_MS ? position : null;
  }

  function fillPosition(form) {
    var position = freshPosition();
    var fields = { latitude: '', longitude: '', location_accuracy_m: '' };
    if (position) {
      fields.latitude = position.latitude.toFixed(6);
      fields.longitude = position.longitude.toFixed(6);
      fields.location_accuracy_m = String(Math.min(Math.round(position.accuracy || 0), 100000));
    }
    Object.keys(fields).forEach(function (name) {
      var input = form.querySelector('input[name="' + name + '"]');
      if (input) { input.value = fields[name]; }
    });
  }

  /* ---------- forms ---------- */

  function showStartErrors(form, errors) {
    var old = form.querySelectorAll('.lw-js-error');
    Array.prototype.forEach.call(old, function (node) { node.remove(); });
    Object.keys(errors).forEach(function (name) {
      var container = form.querySelector('#field-' + name);
      var note = document.createElement('p');
      note.className = 'error lw-js-error';
      note.setAttribute('role', 'alert');
      note.textContent = errors[name];
      if (container) {
        var heading = container.querySelector('legend, label');
        if (heading && heading.parentNode === container) { heading.insertAdjacentElement('afterend', note); }
        else { container.insertBefore(note, container.firstChild); }
      } else {
        form.insertBefore(note, form.firstChild);
      }
    });
    var first = form.querySelector('.lw-js-error');
    if (first) { first.scrollIntoView({ block: 'center' }); }
  }

  /* The same rules as the server's, checked before the phone keeps a start that the server
   * would refuse later (a worker must never believe a session runs when it cannot). */
  function checkStart(form) {
    var errors = {};
    var kind = form.querySelector('input[name="place_kind"]:checked');
    var branch = form.querySelector('[name="branch_id"]');
    var place = form.querySelector('[name="place"]');
    var end = form.querySelector('[name="planned_end_at"]');
    var duration = form.querySelector('[name="duration_minutes"]');
    var kindValue = kind ? kind.value : (form.querySelector('input[name="place_kind"]') || {}).value;
    if (kindValue === 'branch' && !(branch && branch.value)) { errors.branch_id = 'Choose the branch.'; }
    if (kindValue && kindValue !== 'branch' && !(place && place.value.trim())) {
      errors.place = 'Say where: the route or stop, the address, or a short description.';
    }
    if (!(end && end.value) && !(duration && duration.value)) { errors.planned_end_at = 'Say when you expect to finish.'; }
    return errors;
  }

  /* The place as the server labels it (branch · place). */
  function placeFromForm(form) {
    if (form.dataset.placeLabel) { return form.dataset.placeLabel; }
    var branch = form.querySelector('select[name="branch_id"]');
    var parts = [];
    if (branch && branch.value) {
      var option = branch.options[branch.selectedIndex];
      if (option) { parts.push(option.textContent.trim()); }
    }
    var place = form.querySelector('[name="place"]');
    if (place && place.value.trim()) { parts.push(place.value.trim()); }
    return parts.join(' \u00b7 ');
  }

  /* Before app.js serialises a form (this listener is on the form, app.js's on the document). */
  function beforeSubmit(event) {
    var form = event.target;
    var type = form.dataset.outboxType;
    if (type === 'session_started') {
      askNotificationPermission();
      if (!freshPosition()) { refreshPosition(); }   // asks, from this tap; the start never waits for it
      var errors = form.id === 'lw-start-form' ? checkStart(form) : {};
      if (Object.keys(errors).length) {
        event.preventDefault();
        event.stopPropagation();
        showStartErrors(form, errors);
        return;
      }
      // A start made on this phone: remember what the status screen needs, keyed by the record id.
      state.pending_start = { place: placeFromForm(form) };
      save();
      var seq = form.querySelector('input[name="sequence"]');
      if (seq) { seq.value = '0'; }
    } else if (state.session && form.querySelector('input[name="session_id"]')) {
      if (type === 'check_in') { askNotificationPermission(); }
      state.session.last_sequence = (state.session.last_sequence || 0) + 1;   // each event its own number
      form.querySelector('input[name="session_id"]').value = state.session.id;
      form.querySelector('input[name="sequence"]').value = String(state.session.last_sequence);
      save();
    }
    fillPosition(form);
    refreshPositionIfAllowed();
  }

  /* After app.js has kept a record on the phone (sent or waiting). */
  function afterSaved(event) {
    var record = event.detail && event.detail.record;
    if (!record || !/^(session_started|check_in|session_extended|session_finished|alarm_raised)$/.test(record.type)) { return; }
    var sent = !!event.detail.sent;
    // app.js has already said the outcome in #submit-result: read it now, so the screen changes
    // in the same moment as the words (the outbox is asked only where there is no such box).
    var box = $('submit-result');
    var known = sent || (box && box.dataset.outcome)
      ? Promise.resolve(sent ? 'sent' : box.dataset.outcome)
      : outboxRecord(record.id).then(function (here) { return here ? (here.status === 'rejected' ? 'rejected' : 'saved') : 'sent'; });
    known.then(function (outcome) {
      if (outcome === 'rejected') {
        // Refused at once (a wrong PIN, a missing answer): nothing changes; app.js shows why.
        if (state.session && record.type !== 'session_started') { render(); }
        return;
      }
      state = load();
      state.finished = state.finished || [];
      var at = parseTime(record.recorded_at) || Date.now();
      var data = record.data || {};
      state.last_action = { type: record.type, record_id: record.id, at: at };
      state.notice = null;
      if (record.type === 'session_started') {
        var interval = parseInt(data.check_in_interval_minutes, 10) || null;
        var end = data.planned_end_at ? nextWallClock(data.planned_end_at, at)
          : (data.duration_minutes ? at + parseInt(data.duration_minutes, 10) * 60000 : null);
        state.session = {
          id: record.id, place: (state.pending_start && state.pending_start.place) || '',
          interval_minutes: interval, planned_end: end, next_due: interval ? at + interval * 60000 : null,
          last_check_in: null, last_sequence: 0, started: at
        };
        state.pending_start = null;
        var finished = $('lw-finished');
        if (finished) { finished.hidden = true; }
      } else if (state.session && data.session_id === state.session.id) {
        var session = state.session;
        session.last_sequence = Math.max(session.last_sequence || 0, parseInt(data.sequence, 10) || 0);
        if (record.type === 'check_in') {
          session.last_check_in = at;
          if (session.interval_minutes) { session.next_due = at + session.interval_minutes * 60000; }
        } else if (record.type === 'session_extended' && data.extend_by_minutes) {
          session.planned_end = Math.max(session.planned_end || 0, at) + parseInt(data.extend_by_minutes, 10) * 60000;
        } else if (record.type === 'session_finished') {
          finishHere(session);
        }
      }
      save();
      render();
      if (record.type === 'alarm_raised') { showAlarmOutcome(record, outcome === 'sent'); }
    });
  }

  /* A finish: the same screen whichever PIN was typed (the server alone knows a duress PIN). */
  function finishHere(session) {
    state.finished = state.finished.filter(function (id) { return id !== session.id; }).concat([session.id]).slice(-20);
    state.finished_session = session;
    state.session = null;
    var finished = $('lw-finished');
    if (finished) { finished.hidden = false; }
    var notice = $('lw-notice');
    if (notice) { notice.hidden = true; }
  }

  /* ---------- the alarm: press and hold, then what still works with no signal ---------- */

  /* Encoded as the server encodes it (Python's quote): the same link whoever built it. */
  function smsHref(to, text) {
    var body = encodeURIComponent(text).replace(/[!'()*]/g, function (c) {
      return '%' + c.charCodeAt(0).toString(16).toUpperCase();
    }).replace(/%2F/g, '/');
    return 'sms:' + to + '?body=' + body;
  }

  function updateSmsLink() {
    var link = $('lw-sms');
    if (!link) { return; }
    var to = link.dataset.smsTo || '';
    var where = state.session && state.session.place ? state.session.place : null;
    var text = link.dataset.smsBody || '';
    var position = freshPosition();
    if (where || position) {
      var place = where || (/At: (.*?)\.( Location:| \(Safer)/.exec(text) || [])[1] || 'place not known';
      var coordinates = position ? ' Location: ' + position.latitude.toFixed(5) + ',' + position.longitude.toFixed(5)
        : ((/ Location: [-0-9.]+,[-0-9.]+/.exec(text) || [''])[0]);
      text = 'HELP: ' + (userName || 'A lone worker') + ' needs help. At: ' + place + '.' + coordinates + ' (Safer Libraries)';
    }
    link.href = smsHref(to, text);
    link.dataset.smsBodyNow = text;
  }

  function showAlarmOutcome(record, sent) {
    var box = $('lw-alarm-state');
    if (!box) { return; }
    box.hidden = false;
    box.dataset.state = sent ? 'sent' : 'waiting';
    box.textContent = sent
      ? 'Alarm sent. Your supervisors are being told now.'
      : 'Alarm saved on this phone. It sends the moment there is signal. Call or text now:';
    body.classList.add('lw-alarm-raised');
    body.classList.toggle('lw-alarm-waiting', !sent);
    var list = $('lw-call-list');
    if (list && !sent) { box.insertAdjacentElement('afterend', list); }
    box.focus();
    if (!sent) { watchAlarm(record.id); }
  }

  /* Say so the moment a waiting alarm has reached the server. */
  function watchAlarm(id) {
    var timer = setInterval(function () {
      outboxRecord(id).then(function (record) {
        if (record) { return; }
        clearInterval(timer);
        var box = $('lw-alarm-state');
        if (box) {
          box.dataset.state = 'sent';
          box.textContent = 'Alarm sent. Your supervisors are being told now. Call or text as well if you can:';
        }
        body.classList.remove('lw-alarm-waiting');
      });
    }, 1500);
  }

  function setUpHold(button) {
    var form = button.form;
    var holdMs = parseInt(button.dataset.holdToConfirmMs, 10) || HOLD_MS_DEFAULT;
    var seconds = Math.round(holdMs / 1000);
    // The fill is the button's own background (--hold, 0 to 1), and the words its own text:
    // app.js swaps a busy button's text ("Saving…") and back, so no child element is relied on.
    var idleText = 'Hold to send alarm (' + seconds + ' s)';
    setText(button, idleText);
    button.classList.add('lw-hold');
    button.setAttribute('aria-describedby', 'lw-hold-status');
    var status = $('lw-hold-status');
    if (status) { status.hidden = false; status.textContent = 'Press and hold the red button for ' + seconds + ' seconds. Letting go early cancels it.'; }

    var startedAt = null;
    var frame = null;
    var done = false;

    function paint() {
      if (startedAt === null) { return; }
      var elapsed = Date.now() - startedAt;
      var progress = Math.min(elapsed / holdMs, 1);
      button.style.setProperty('--hold', String(progress));
      var left = Math.max(0, Math.ceil((holdMs - elapsed) / 1000));
      var text = left > 0 ? 'Keep holding\u2026 ' + left : 'Sending alarm\u2026';
      setText(button, text);
      if (status) { setText(status, left > 0 ? 'Keep holding: the alarm sends in ' + left + ' s. Let go to cancel.' : 'Sending the alarm.'); }
      if (progress >= 1) { complete(); return; }
      frame = requestAnimationFrame(paint);
    }

    function begin(event) {
      if (startedAt !== null || done || form.dataset.busy) { return; }
      if (event && event.pointerId !== undefined && button.setPointerCapture) {
        try { button.setPointerCapture(event.pointerId); } catch (error) { /* not capturable */ }
      }
      refreshPositionIfAllowed();
      startedAt = Date.now();
      button.dataset.holding = 'true';
      try { if (navigator.vibrate) { navigator.vibrate(60); } } catch (error) { /* not allowed */ }
      paint();
    }

    function cancel() {
      if (startedAt === null || done) { return; }
      startedAt = null;
      cancelAnimationFrame(frame);
      button.style.setProperty('--hold', '0');
      delete button.dataset.holding;
      setText(button, idleText);
      if (status) {
        status.textContent = 'Let go too soon: the alarm was NOT sent. Press and hold for ' + seconds + ' seconds.';
        status.dataset.state = 'cancelled';
      }
    }

    function complete() {
      done = true;
      startedAt = null;
      delete button.dataset.holding;
      button.style.setProperty('--hold', '1');
      if (status) { status.dataset.state = 'sending'; }
      try { if (navigator.vibrate) { navigator.vibrate([200, 100, 200]); } } catch (error) { /* not allowed */ }
      fillPosition(form);
      if (typeof form.requestSubmit === 'function') { form.requestSubmit(button); }
      else { form.dispatchEvent(new Event('submit', { bubbles: true, cancelable: true })) || form.submit(); }
    }

    // A tap, a pocket press or Enter in the text box never sends: only the completed hold does.
    button.addEventListener('click', function (event) { event.preventDefault(); });
    button.addEventListener('contextmenu', function (event) { event.preventDefault(); });
    button.addEventListener('pointerdown', function (event) {
      if (event.button !== undefined && event.button !== 0) { return; }
      event.preventDefault();
      begin(event);
    });
    ['pointerup', 'pointercancel', 'lostpointercapture'].forEach(function (name) { button.addEventListener(name, cancel); });
    button.addEventListener('keydown', function (event) {
      if (event.key !== ' ' && event.key !== 'Enter') { return; }
      event.preventDefault();
      if (!event.repeat) { begin(null); }
    });
    button.addEventListener('keyup', function (event) {
      if (event.key !== ' ' && event.key !== 'Enter') { return; }
      event.preventDefault();
      cancel();
    });
    button.addEventListener('blur', cancel);
    // After the alarm is kept (sent or waiting), the button can raise another one.
    form.addEventListener('outbox:saved', function () {
      done = false;
      button.style.setProperty('--hold', '0');
      idleText = 'Hold to send another alarm (' + seconds + ' s)';
      if (status) { status.dataset.state = 'done'; status.textContent = 'Press and hold again to send another alarm.'; }
      // After app.js has put back the text it had while saving (its finally runs after this event).
      setTimeout(function () { setText(button, idleText); }, 0);
    });
  }

  /* ---------- start ---------- */

  function keepMyPagesForOffline() {
    if (!navigator.serviceWorker) { return; }
    function ask() {
      var controller = navigator.serviceWorker.controller;
      if (controller) { controller.postMessage({ type: 'keep-pages', urls: ['/lone-working/', '/lone-working/alarm'] }); }
    }
    ask();
    navigator.serviceWorker.addEventListener('controllerchange', ask);
  }

  function start() {
    forgetOtherUsers();
    Array.prototype.forEach.call(document.querySelectorAll('form[data-outbox-type]'), function (form) {
      if (/^(session_started|check_in|session_extended|session_finished|alarm_raised)$/.test(form.dataset.outboxType)) {
        form.addEventListener('submit', beforeSubmit);
      }
    });
    document.addEventListener('outbox:saved', afterSaved);
    var holdButton = document.querySelector('button[data-hold-to-confirm-ms]');
    if (holdButton) { setUpHold(holdButton); }
    var help = $('lw-help');
    if (help) { help.addEventListener('click', refreshPositionIfAllowed); }
    keepMyPagesForOffline();
    reconcile(readServer(document), false).then(function () {
      render();
      updateSmsLink();
      refreshPositionIfAllowed();
      setInterval(tick, 1000);
      setInterval(renderLastAction, 2000);
      return fetchServerView();
    }).then(function (view) {
      if (!view) { return; }
      return reconcile(view, true).then(function () { render(); updateSmsLink(); });
    });
    window.addEventListener('storage', function (event) {
      if (event.key === KEY) { state = load(); state.finished = state.finished || []; render(); }
    });
  }

  start();
}());
