/* SaferSender: sending what waits, and the bar that says so ("N waiting", "Send now",
 * "Sign in to send").
 *
 * Sends on every trigger the page has (pitfall 8): page load, the `online` event, the app
 * becoming visible, a retry timer (15 s doubling to 5 min), the "Send now" button, and a save
 * (SaferSender.drainNow('submit')). Only this person's records are sent (sync.js checks who is
 * signed in). After every drain, and whenever the outbox changes, it reads the outbox once and
 * tells the other scripts through SaferPage 'outbox-changed' ({records, everyone}), so lists
 * drawn from that one reading never disagree.
 *
 * Contract: SaferSender.drainNow(reason) -> Promise(summary), SaferSender.refresh() ->
 * Promise(records), SaferSender.resetRetry(), SaferSender.myRecords() -> Promise(records).
 */
(function (root) {
  'use strict';

  var MIN_RETRY_MS = 15000;       // first retry while records wait...
  var MAX_RETRY_MS = 300000;      // ...doubling up to five minutes

  var page = root.SaferPage;
  var $ = page.$;
  var userId = page.userId;

  var lastState = null;           // the last drain's state: sent, nothing, offline, signed-out, error
  var retryDelay = MIN_RETRY_MS;
  var retryTimer = null;
  var sending = false;

  function myRecords() {
    return page.hasOutbox ? SaferOutbox.list(userId || null) : Promise.resolve([]);
  }

  function render(records) {
    var bar = $('#outbox-status');
    if (!bar) { return; }
    var message = $('#outbox-message');
    var button = $('#send-now');
    var countText = page.countText;
    var pending = records.filter(function (r) { return r.status === 'pending'; });
    var rejected = records.filter(function (r) { return r.status === 'rejected'; });
    var state;
    message.textContent = '';
    if (!records.length) {
      state = 'empty';
      message.textContent = 'Nothing waiting on this phone';
    } else if (!userId) {
      // The offline page names no one: say what waits, for whoever made it.
      state = 'offline';
      message.textContent = countText(records) + ' waiting on this phone — they send when you have signal and are signed in';
    } else if (lastState === 'signed-out') {
      state = 'signed-out';
      message.appendChild(page.el('a', { href: '/auth/sign-in?next=' + encodeURIComponent(location.pathname),
                                         text: 'Sign in to send ' + countText(records) }));
    } else if (rejected.length) {
      state = 'rejected';
      message.appendChild(page.el('a', { href: '/waiting', text: countText(rejected) + (rejected.length === 1 ? ' needs' : ' need') + ' your attention' }));
      if (pending.length) { message.appendChild(document.createTextNode(' · ' + countText(pending) + ' waiting')); }
    } else {
      state = lastState === 'offline' ? 'offline' : 'waiting';
      var why = lastState === 'error' ? ' — the server had a problem, will try again' : ' — will send when you have signal';
      message.textContent = (state === 'offline' ? 'No signal. ' : '') + countText(pending) + ' waiting on this phone' + why;
    }
    if (sending && pending.length && userId) {
      message.textContent = 'Sending ' + countText(pending) + '…';
    }
    bar.dataset.state = state;
    button.hidden = !(userId && pending.length && state !== 'signed-out');
    button.disabled = sending;
    var warning = $('#storage-warning');
    if (warning) { warning.hidden = !(root.SaferSW && SaferSW.storagePersisted === false && records.length > 0); }
  }

  /* The sign-in page: say that records wait (whose they are is not shown to whoever holds the phone). */
  function renderSignInNote(records) {
    var note = $('#phone-waiting-note');
    if (!records.length) { if (note) { note.remove(); } return; }
    if (!note) {
      note = page.el('p', { id: 'phone-waiting-note', class: 'flash flash-info', role: 'status' });
      var main = $('#main');
      main.insertBefore(note, main.querySelector('h1') ? main.querySelector('h1').nextSibling : main.firstChild);
    }
    var one = records.length === 1;
    note.textContent = page.countText(records) + (one ? ' is' : ' are') + ' waiting on this phone. ' +
      (one ? 'It sends' : 'They send') + ' after the person who made ' + (one ? 'it' : 'them') + ' signs in.';
  }

  /* Read the outbox once, then draw everything from that one reading. */
  function refresh() {
    var everyone = page.hasOutbox ? SaferOutbox.all() : Promise.resolve([]);
    return Promise.all([myRecords(), everyone]).then(function (both) {
      render(both[0]);
      if (page.pageId === 'sign-in') { renderSignInNote(both[1]); }
      page.emit('outbox-changed', { records: both[0], everyone: both[1] });
      return both[0];
    }).catch(function (error) {
      var message = $('#outbox-message');
      if (message) { message.textContent = 'This phone could not read its saved reports (' + error.message + ').'; }
    });
  }

  function scheduleRetry(records) {
    clearTimeout(retryTimer);
    retryTimer = null;
    var pending = records.filter(function (r) { return r.status === 'pending'; });
    if (!pending.length || !userId || lastState === 'signed-out') { retryDelay = MIN_RETRY_MS; return; }
    retryTimer = setTimeout(function () { drainNow('timer'); }, retryDelay);
    retryDelay = Math.min(retryDelay * 2, MAX_RETRY_MS);
  }

  /* Send what waits (this person's records only). */
  function drainNow(reason) {
    if (!page.hasOutbox || !userId) { return Promise.resolve(null); }
    sending = true;
    refresh();
    return SaferSync.drain({ userId: userId }).then(function (summary) {
      lastState = summary.state;
      if (summary.sent || summary.state === 'nothing') { retryDelay = MIN_RETRY_MS; }
      return summary;
    }, function (error) {
      lastState = 'error';
      return { state: 'error', sent: 0, rejected: 0, message: String(error), reason: reason };
    }).then(function (summary) {
      sending = false;
      page.emit('drained', summary);
      return refresh().then(function (records) {
        scheduleRetry(records || []);
        return summary;
      });
    });
  }

  function start() {
    // The service worker drained (Background Sync): take its state and redraw from the outbox.
    page.on('worker-drained', function (summary) {
      if (summary && summary.state) { lastState = summary.state; }
      refresh();
    });
    if (!page.hasOutbox) { return; }
    var sendNow = $('#send-now');
    if (sendNow) { sendNow.addEventListener('click', function () { drainNow('button'); }); }
    root.addEventListener('online', function () { drainNow('online'); });
    document.addEventListener('visibilitychange', function () {
      if (document.visibilityState === 'visible') { drainNow('visible'); }
    });
    refresh().then(function (records) {
      if (!userId) { return; }
      if (root.SaferSW) {
        SaferSW.askPersistentStorage().then(refresh);
        if (records && records.length) { SaferSW.requestBackgroundSync(); }
      }
      drainNow('load');
    });
  }

  root.SaferSender = {
    drainNow: drainNow, refresh: refresh, myRecords: myRecords,
    resetRetry: function () { retryDelay = MIN_RETRY_MS; }
  };
  // After the page's other scripts have registered their listeners (all are deferred, in order).
  document.addEventListener('DOMContentLoaded', start);
}(window));
