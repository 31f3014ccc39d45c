/* "I need help": the press-and-hold alarm button, then what still works with no signal.
 *
 * Only a completed hold (about three seconds) sends: a tap, a pocket press or Enter sends
 * nothing, and letting go early says so. After the alarm is kept (sent or waiting first in line
 * in the outbox), the screen offers tel: links and an sms: link with who, where and the
 * coordinates, and says the moment a waiting alarm has reached the server.
 *
 * Pure part (Node tests: tests/js/lw_alarm.test.js): holdProgress(startedAt, now, holdMs) and
 * smsHref(to, text). Page part: wires #lw-alarm-button[data-hold-to-confirm-ms].
 */
(function (root) {
  'use strict';

  var HOLD_MS_DEFAULT = 3000;

  /* Where a hold is at `now`: {progress 0..1, secondsLeft, done}. */
  function holdProgress(startedAt, now, holdMs) {
    var elapsed = Math.max(0, now - startedAt);
    var progress = Math.min(elapsed / holdMs, 1);
    return { progress: progress, secondsLeft: Math.max(0, Math.ceil((holdMs - elapsed) / 1000)), done: progress >= 1 };
  }

  /* Encoded as the server encodes it (Python's quote): the same link whoever built it. */
  function smsHref(to, text) {
    var body = encodeURIComponent(text).replace(/[!'()*]/g, function (c) {
      return '%' + c.charCodeAt(0).toString(16).toUpperCase();
    }).replace(/%2F/g, '/');
    return 'sms:' + to + '?body=' + body;
  }

  var pure = { holdProgress: holdProgress, smsHref: smsHref };
  if (typeof module !== 'undefined' && module.exports) { module.exports = pure; }
  if (typeof document === 'undefined' || !root.SaferPage || !root.SaferPage.userId) { root.SaferAlarm = pure; return; }

  var page = root.SaferPage;
  var setText = page.setText;
  var body = document.body;
  function $(id) { return document.getElementById(id); }

  function updateSmsLink() {
    var link = $('lw-sms');
    if (!link) { return; }
    var view = root.SaferLwState && SaferLwState.current();
    var where = view && view.session && view.session.place_label ? view.session.place_label : null;
    var text = link.dataset.smsBody || '';
    var position = root.SaferPosition && SaferPosition.fresh();
    if (where || position) {
      var place = where || (/At: (.*?)\.( Location:| \(Safer)/.exec(text) || [])[1] || 'place not known';
      var coordinates = position ? ' Location: ' + position.latitude.toFixed(5) + ',' + position.longitude.toFixed(5)
        : ((/ Location: [-0-9.]+,[-0-9.]+/.exec(text) || [''])[0]);
      text = 'HELP: ' + (page.userName || 'A lone worker') + ' needs help. At: ' + place + '.' + coordinates + ' (Safer Libraries)';
    }
    link.href = smsHref(link.dataset.smsTo || '', text);
    link.dataset.smsBodyNow = text;
  }

  function showOutcome(record, sent) {
    var box = $('lw-alarm-state');
    if (!box) { return; }
    box.hidden = false;
    box.dataset.state = sent ? 'sent' : 'waiting';
    box.textContent = sent ? 'Alarm sent. Your supervisors are being told now.'
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
      SaferOutbox.get(id).then(function (record) {
        if (record) { return; }
        clearInterval(timer);
        var box = $('lw-alarm-state');
        if (box) {
          box.dataset.state = 'sent';
          box.textContent = 'Alarm sent. Your supervisors are being told now. Call or text as well if you can:';
        }
        body.classList.remove('lw-alarm-waiting');
      }, function () { /* try again next time */ });
    }, 1500);
  }

  function setUpHold(button) {
    var form = button.form;
    var holdMs = parseInt(button.dataset.holdToConfirmMs, 10) || HOLD_MS_DEFAULT;
    var seconds = Math.round(holdMs / 1000);
    // The fill is the button's own background (--hold, 0 to 1), and the words its own text.
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
      var hold = holdProgress(startedAt, Date.now(), holdMs);
      button.style.setProperty('--hold', String(hold.progress));
      setText(button, hold.secondsLeft > 0 ? 'Keep holding\u2026 ' + hold.secondsLeft : 'Sending alarm\u2026');
      if (status) {
        setText(status, hold.secondsLeft > 0 ? 'Keep holding: the alarm sends in ' + hold.secondsLeft + ' s. Let go to cancel.' : 'Sending the alarm.');
      }
      if (hold.done) { complete(); return; }
      frame = requestAnimationFrame(paint);
    }

    function begin(event) {
      if (startedAt !== null || done || form.dataset.busy) { return; }
      if (event && event.pointerId !== undefined && button.setPointerCapture) {
        try { button.setPointerCapture(event.pointerId); } catch (error) { /* not capturable */ }
      }
      if (root.SaferPosition) { SaferPosition.refreshIfAllowed(); }
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
    // After the alarm is kept (sent or waiting): the form is usable again, so the button can
    // raise another one (SaferForms runs this after it has put the button's own text back).
    SaferForms.afterSave('alarm_raised', function (saved) {
      done = false;
      button.style.setProperty('--hold', '0');
      idleText = 'Hold to send another alarm (' + seconds + ' s)';
      if (status) { status.dataset.state = 'done'; status.textContent = 'Press and hold again to send another alarm.'; }
      setText(button, idleText);
      if (saved.outcome !== 'rejected') { showOutcome(saved.record, saved.outcome === 'sent'); }
    });
  }

  var holdButton = document.querySelector('button[data-hold-to-confirm-ms]');
  if (holdButton && root.SaferForms) { setUpHold(holdButton); }
  if (root.SaferLwState && SaferLwState.onChange) { SaferLwState.onChange(updateSmsLink); }
  if (root.SaferPosition) { SaferPosition.onChange(updateSmsLink); }
  updateSmsLink();
  root.SaferAlarm = pure;
}(typeof self !== 'undefined' ? self : this));
