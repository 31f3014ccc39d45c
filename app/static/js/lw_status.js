/* The lone-working status screen: which section shows (status or start form), the countdown to
 * the deadline on the server's clock, reminders before it, the session's alert as the server
 * tells it, a plain word when the phone's clock is out, and the session id and next sequence
 * number in every worker form. Also the worker forms' hooks (SaferForms): the start form's
 * checks (SaferRules.checkStart, the server's own rules and words) and, after a save, the record
 * counted at once by SaferLwState.
 *
 * Words kept apart: the *deadline* is when the next check-in or the planned end falls; a session
 * is *overdue* (the server alerts supervisors) only at deadline + the service's grace period.
 */
(function (root) {
  'use strict';

  var page = root.SaferPage;
  if (!page.userId || !root.SaferLwState || !root.SaferLwState.refresh) { return; }
  var Rules = root.SaferRules;
  var State = root.SaferLwState;
  var Position = root.SaferPosition;
  var setText = page.setText;
  var REMIND_MINUTES = [5, 1];          // vibrate and notify this long before a deadline

  function $(id) { return document.getElementById(id); }

  function pad(n) { return (n < 10 ? '0' : '') + n; }

  /* An instant as the wall clock shows it when it comes (the server's time, in this zone). */
  function clockText(ms) {
    var date = new Date(ms);
    return pad(date.getHours()) + ':' + pad(date.getMinutes());
  }

  function fillSessionFields(view) {
    ['lw-check-in-form', 'lw-extend-form', 'lw-finish-form', 'lw-alarm-form'].forEach(function (id) {
      var form = $(id);
      if (!form) { return; }
      var sessionField = form.querySelector('input[name="session_id"]');
      var sequenceField = form.querySelector('input[name="sequence"]');
      if (sessionField) {
        if (view.session) { sessionField.value = view.session.id; }
        else if (view.finished) { sessionField.value = ''; }
      }
      if (sequenceField && view.session) { sequenceField.value = String(view.next_sequence); }
    });
  }

  function renderAlert(alert) {
    var node = $('lw-alert');
    if (!node) { return; }
    node.hidden = !alert || alert.resolved;
    if (!alert || alert.resolved) { return; }
    var raised = Rules.instant(alert.raised_at);
    var words = page.label('alert_kinds', alert.kind) + ' alert raised at ' + clockText(raised) + '. ';
    words += alert.acknowledged
      ? (alert.acknowledged_by || 'A supervisor') + ' has it (since ' + clockText(Rules.instant(alert.acknowledged_at)) + ').'
      : 'Your supervisors are being told.';
    node.dataset.acknowledged = alert.acknowledged ? 'true' : 'false';
    setText(node, words);
  }

  function render(view) {
    fillSessionFields(view);
    var clock = $('lw-clock');
    if (clock) { clock.hidden = !view.clock_warning; setText(clock, view.clock_warning || ''); }
    var notice = $('lw-notice');
    if (notice) { notice.hidden = !view.notice; setText(notice, view.notice || ''); }
    // The same words for every finish, whichever PIN was typed, until something else is done.
    var done = view.last_done;
    var finished = $('lw-finished');
    if (finished) {
      finished.hidden = !(view.finished || (!view.session && done && done.type === 'session_finished' && done.state !== 'rejected'));
    }
    var statusSection = $('lw-status');
    var startSection = $('lw-start');
    if (!statusSection || !startSection) { renderLastAction(view); return; }
    var session = view.session;
    statusSection.hidden = !session;
    startSection.hidden = !!session;
    renderLastAction(view);
    if (!session) { return; }
    setText($('lw-status-title'), 'Lone working' + (session.place_label ? ': ' + session.place_label : ''));
    var planned = session.planned_end_at ? 'Planned end: ' + clockText(session.planned_end_at) : 'Planned end: not known yet';
    if (session.interval) { planned += ' \u00b7 ' + Rules.intervalLabel(session.interval).toLowerCase(); }
    setText($('lw-planned-end'), planned);
    var last = $('lw-last-check-in');
    if (last) {
      last.hidden = !session.last_check_in_at;
      if (session.last_check_in_at) { setText(last, 'Last check-in: ' + clockText(session.last_check_in_at)); }
    }
    renderAlert(session.alert);
    tick();
  }

  /* Whether the last thing done on this phone was sent, waits here, or was refused. */
  function renderLastAction(view) {
    var node = $('lw-last-action');
    var action = view.last_done;
    if (!node) { return; }
    if (!action) { node.hidden = true; return; }
    var words = page.label('record_done', action.type, 'Saved') + ' at ' + clockText(action.at);
    var status = action.state === 'pending' ? 'waiting' : action.state;
    if (status === 'sent') { words += ' \u2014 sent'; }
    else if (status === 'rejected') { words += ' \u2014 NOT accepted: ' + (action.reasons || 'see "On this phone"'); }
    else { words += ' \u2014 waiting on this phone, will send when you have signal'; }
    node.hidden = false;
    node.dataset.status = status;
    setText(node, words);
  }

  /* ---------- the countdown (server time) and the reminders ---------- */

  function tick() {
    var view = State.current();
    var session = view && view.session;
    var due = $('lw-next-due');
    if (!session || !due) { return; }
    if (!session.deadline_at) { setText(due, 'Check in when you can.'); return; }
    var now = State.serverNow();
    var left = session.deadline_at - now;
    var end = session.deadline_kind === 'end';
    var at = clockText(session.deadline_at);
    var text;
    if (left >= 0) {
      text = end ? 'Planned end in ' + Rules.formatCountdown(left) + ', at ' + at + '. Finish or extend.'
                 : 'Next check-in due in ' + Rules.formatCountdown(left) + ', at ' + at;
    } else {
      text = (end ? 'Your planned end was ' + Rules.formatCountdown(left) + ' ago, at ' + at + '. Finish or extend now.'
                  : 'Check-in was due ' + Rules.formatCountdown(left) + ' ago, at ' + at + '. Tap "I\'m OK" now.');
      if (session.overdue_at && now < session.overdue_at) {
        text += ' Your supervisors are alerted at ' + clockText(session.overdue_at) + '.';
      }
    }
    setText(due, text);
    due.dataset.deadline = new Date(session.deadline_at).toISOString();
    var settings = view.settings;
    var urgency = Rules.urgency(now, { active: true, deadlineAt: session.deadline_at, graceMinutes: settings.grace_minutes,
                                       dueSoonMinutes: settings.due_soon_minutes,
                                       openAlertKinds: session.alert && !session.alert.resolved ? [session.alert.kind] : [] });
    if (due.dataset.urgency !== urgency) { due.dataset.urgency = urgency; }
    var card = due.closest('.lw-status-card');
    if (card && card.dataset.urgency !== urgency) { card.dataset.urgency = urgency; }
    remind(session, left);
  }

  function remind(session, left) {
    var stored = State.store();
    stored.reminded = stored.reminded || [];
    var fire = null;
    REMIND_MINUTES.concat([0]).forEach(function (minutes) {
      var key = session.deadline_kind + '@' + session.deadline_at + '-' + minutes;
      if (left <= minutes * 60000 && stored.reminded.indexOf(key) === -1) {
        stored.reminded.push(key);
        fire = minutes;   // the nearest threshold crossed: one reminder, not three at once
      }
    });
    if (fire === null) { return; }
    stored.reminded = stored.reminded.slice(-30);
    State.save();
    if (left < -60000) { return; }   // long past (an old session on a reopened page): the screen says it
    var end = session.deadline_kind === 'end';
    var title = fire === 0 ? (end ? 'Your planned end has passed' : 'Check-in due now')
      : (end ? 'Planned end in ' : 'Check-in due in ') + fire + (fire === 1 ? ' minute' : ' minutes');
    var text = end ? 'Open Safer Libraries to finish or extend.' : 'Open Safer Libraries and tap "I\'m OK".';
    try { if (navigator.vibrate) { navigator.vibrate([400, 200, 400, 200, 400]); } } catch (error) { /* not allowed */ }
    showNotification(title, text);
  }

  function showNotification(title, text) {
    if (!('Notification' in root) || Notification.permission !== 'granted' || !navigator.serviceWorker) { return; }
    navigator.serviceWorker.ready.then(function (registration) {
      return registration.showNotification(title, {
        body: text, tag: 'safer-lone-working', renotify: true, requireInteraction: true,
        icon: '/static/icons/icon-192.png', vibrate: [400, 200, 400], data: { url: '/lone-working/' }
      });
    }).catch(function () { /* the countdown and the vibration still say it */ });
  }

  /* Asked from a tap (the browser refuses to ask otherwise). */
  function askNotificationPermission() {
    if (!('Notification' in root) || Notification.permission !== 'default') { return; }
    try {
      var asked = Notification.requestPermission();
      if (asked && asked.catch) { asked.catch(function () { /* declined */ }); }
    } catch (error) { /* old API shape: ignored */ }
  }

  /* ---------- the worker forms' hooks ---------- */

  function showStartErrors(form, errors) {
    Array.prototype.forEach.call(form.querySelectorAll('.lw-js-error'), function (node) { node.remove(); });
    Object.keys(errors).forEach(function (name) {
      var container = form.querySelector('#field-' + name);
      var note = page.el('p', { class: 'error lw-js-error', role: 'alert', text: [].concat(errors[name]).join(' ') });
      var heading = container && container.querySelector('legend, label');
      if (heading && heading.parentNode === container) { heading.insertAdjacentElement('afterend', note); }
      else if (container) { container.insertBefore(note, container.firstChild); }
      else { form.insertBefore(note, form.firstChild); }
    });
    var first = form.querySelector('.lw-js-error');
    if (first) { first.scrollIntoView({ block: 'center' }); }
  }

  /* The place as the server labels it (branch · place). */
  function placeFromForm(form) {
    if (form.dataset.placeLabel) { return form.dataset.placeLabel; }
    var branch = form.querySelector('select[name="branch_id"]');
    var parts = [];
    if (branch && branch.value && branch.options[branch.selectedIndex]) { parts.push(branch.options[branch.selectedIndex].textContent.trim()); }
    var place = form.querySelector('[name="place"]');
    if (place && place.value.trim()) { parts.push(place.value.trim()); }
    return parts.join(' \u00b7 ');
  }

  var placeLabels = {};   // the place of a start being saved, by form

  function beforeStart(form) {
    askNotificationPermission();
    if (!Position.fresh()) { Position.refresh(); }   // asks, from this tap; the start never waits for it
    if (form.id === 'lw-start-form') {
      var errors = Rules.checkStart(SaferForms.serialize(form));
      showStartErrors(form, errors);
      if (Object.keys(errors).length) { return false; }
    }
    placeLabels[form.id || 'again'] = placeFromForm(form);
    var sequence = form.querySelector('input[name="sequence"]');
    if (sequence) { sequence.value = '0'; }
    Position.fill(form);
    return true;
  }

  function beforeEvent(form) {
    if (form.dataset.outboxType === 'check_in') { askNotificationPermission(); }
    var numbered = State.takeSequence();   // each event its own number
    var sessionField = form.querySelector('input[name="session_id"]');
    var sequenceField = form.querySelector('input[name="sequence"]');
    if (numbered && sessionField && sequenceField) {
      sessionField.value = numbered.session_id;
      sequenceField.value = String(numbered.sequence);
    }
    Position.fill(form);
    Position.refreshIfAllowed();
    return true;
  }

  function afterSave(saved) {
    var label = saved.record.type === 'session_started' ? placeLabels[saved.form.id || 'again'] : '';
    State.remember({ record: saved.record, outcome: saved.outcome, place_label: label });
  }

  function start() {
    SaferForms.beforeSave('session_started', beforeStart);
    ['check_in', 'session_extended', 'session_finished', 'alarm_raised'].forEach(function (type) {
      SaferForms.beforeSave(type, beforeEvent);
    });
    Object.keys(State.LW_TYPES).forEach(function (type) { SaferForms.afterSave(type, afterSave); });
    State.onChange(render);
    State.drawFromStore();
    var help = $('lw-help');
    if (help) { help.addEventListener('click', Position.refreshIfAllowed); }
    Position.refreshIfAllowed();
    State.refresh();
    setInterval(tick, 1000);
    root.addEventListener('storage', function (event) { if (event.key && event.key.indexOf('safer-lw2:') === 0) { State.redraw(); } });
  }

  start();
}(window));
