/* Page glue: the service worker, the outbox status bar, forms that go through the outbox, the
 * "waiting on this phone" list, and sign-out on a shared phone.
 *
 * Needs SaferOutbox (outbox.js) and SaferSync (sync.js), loaded before this file. Plain
 * script, no framework; the Content-Security-Policy forbids inline script, so everything the
 * pages do is here.
 */
(function () {
  'use strict';

  var MIN_RETRY_MS = 15000;       // first retry while records wait...
  var MAX_RETRY_MS = 300000;      // ...doubling up to five minutes
  var SUBMIT_WAIT_MS = 10000;     // how long a submit waits for the server before saying "Saved"
  var KEEP_PAGES = ['/', '/incidents/new', '/waiting'];   // kept for use with no signal

  var body = document.body;
  var userId = body.dataset.userId || '';
  var pageId = body.dataset.page || '';
  var hasOutbox = !!(window.SaferOutbox && window.SaferSync && window.indexedDB);

  var lastState = null;           // the last drain's state: sent, nothing, offline, signed-out, error
  var retryDelay = MIN_RETRY_MS;
  var retryTimer = null;
  var sending = false;
  var storagePersisted = null;    // null: not known; false: the browser may evict the outbox

  var TYPE_LABELS = {
    incident: 'Incident report', alarm_raised: 'Alarm (I need help)', session_started: 'Lone working started',
    check_in: 'Check-in (I’m OK)', session_extended: 'Lone working extended', session_finished: 'Lone working finished'
  };
  var FIELD_LABELS = {
    occurred_at: 'When', branch_id: 'Where', location: 'Where exactly', location_detail: 'More about the place',
    kinds: 'Kind of behaviour', severity: 'How serious', description: 'What happened',
    people_involved: 'People involved', witnesses: 'Witnesses', injuries: 'Injuries',
    police_reference: 'Police reference', actions_taken: 'What was done', id: 'Record',
    schema_version: 'App version', type: 'Record type', recorded_at: 'Time recorded', _record: 'Record'
  };

  /* ---------- small helpers ---------- */

  function $(selector, rootNode) { return (rootNode || document).querySelector(selector); }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      if (name === 'text') { node.textContent = attrs[name]; } else { node.setAttribute(name, attrs[name]); }
    });
    (children || []).forEach(function (child) {
      node.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
    });
    return node;
  }

  function delay(ms) { return new Promise(function (resolve) { setTimeout(resolve, ms); }); }

  function pad(n) { return (n < 10 ? '0' : '') + n; }

  /* What to call these records in a sentence: "report(s)" when all are incident reports. */
  function noun(records, count) {
    var reports = records.length && records.every(function (r) { return r.type === 'incident'; });
    if (reports) { return count === 1 ? 'report' : 'reports'; }
    return count === 1 ? 'record' : 'records';
  }

  function countText(records) {
    return records.length + ' ' + noun(records, records.length);
  }

  /* A datetime-local value (the phone's wall clock, no offset) as ISO-8601 with the phone's offset. */
  function localValueToIso(value) {
    var match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?/.exec(value || '');
    if (!match) { return null; }
    var date = new Date(+match[1], +match[2] - 1, +match[3], +match[4], +match[5], +(match[6] || 0));
    return SaferOutbox.isoWithOffset(date);
  }

  /* An instant as a datetime-local value on this phone's clock. */
  function dateToLocalValue(date) {
    return date.getFullYear() + '-' + pad(date.getMonth() + 1) + '-' + pad(date.getDate()) +
      'T' + pad(date.getHours()) + ':' + pad(date.getMinutes());
  }

  function formatWhen(iso) {
    var date = new Date(iso);
    if (isNaN(date.getTime())) { return iso; }
    return date.toLocaleString('en-GB', { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric',
                                          hour: '2-digit', minute: '2-digit' });
  }

  /* The server's errors ({field: [messages]} or nested) as "Label: message" lines. */
  function errorLines(errors) {
    var lines = [];
    function walk(label, value) {
      if (Array.isArray(value)) { value.forEach(function (v) { walk(label, v); }); }
      else if (value && typeof value === 'object') { Object.keys(value).forEach(function (k) { walk(label, value[k]); }); }
      else if (value !== undefined && value !== null) { lines.push({ label: label, message: String(value) }); }
    }
    Object.keys(errors || {}).forEach(function (field) { walk(FIELD_LABELS[field] || field, errors[field]); });
    return lines;
  }

  /* ---------- the service worker and its caches ---------- */

  function registerServiceWorker() {
    if (!('serviceWorker' in navigator)) { return; }
    navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch(function (error) {
      console.warn('Safer Libraries: the offline helper could not start', error);
    });
    if (userId) {
      keepPagesForOffline();
      navigator.serviceWorker.addEventListener('controllerchange', keepPagesForOffline);
    }
    navigator.serviceWorker.addEventListener('message', function (event) {
      if (event.data && event.data.type === 'outbox-changed') {
        if (event.data.summary && event.data.summary.state) { lastState = event.data.summary.state; }
        refresh();
      }
    });
  }

  /* The worker's own forms, kept while there is signal (the worker fetches only missing ones). */
  function keepPagesForOffline() {
    var controller = navigator.serviceWorker.controller;
    if (controller && userId) { controller.postMessage({ type: 'keep-pages', urls: KEEP_PAGES }); }
  }

  /* Ask the worker to register a Background Sync (Chromium); elsewhere the page's own triggers do. */
  function requestBackgroundSync() {
    if (!('serviceWorker' in navigator) || !('SyncManager' in window)) { return; }
    navigator.serviceWorker.ready.then(function (registration) {
      return registration.sync && registration.sync.register('outbox');
    }).catch(function () { /* not allowed here: the timer and the online event still send */ });
  }

  /* Delete the kept pages (never the outbox): the next person must not see the last one's pages. */
  function clearKeptPages() {
    var jobs = [];
    if (window.caches) {
      jobs.push(caches.keys().then(function (names) {
        return Promise.all(names.filter(function (name) { return name.indexOf('safer-pages-') === 0; })
          .map(function (name) { return caches.delete(name); }));
      }));
    }
    if (navigator.serviceWorker && navigator.serviceWorker.controller) {
      navigator.serviceWorker.controller.postMessage({ type: 'clear-pages' });
    }
    return Promise.all(jobs).catch(function () { return null; });
  }

  function askPersistentStorage() {
    var storage = navigator.storage;
    if (!storage || typeof storage.persist !== 'function') { return Promise.resolve(); }
    var already = typeof storage.persisted === 'function' ? storage.persisted() : Promise.resolve(false);
    return already.then(function (persisted) {
      return persisted || storage.persist();
    }).then(function (granted) {
      storagePersisted = !!granted;
    }).catch(function () {
      storagePersisted = false;
    });
  }

  /* ---------- the status bar ---------- */

  function myRecords() {
    return hasOutbox ? SaferOutbox.list(userId || null) : Promise.resolve([]);
  }

  function renderStatus(records) {
    var bar = $('#outbox-status');
    if (!bar) { return; }
    var message = $('#outbox-message');
    var button = $('#send-now');
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
      message.appendChild(el('a', { href: '/auth/sign-in?next=' + encodeURIComponent(location.pathname),
                                    text: 'Sign in to send ' + countText(records) }));
    } else if (rejected.length) {
      state = 'rejected';
      message.appendChild(el('a', { href: '/waiting', text: countText(rejected) + (rejected.length === 1 ? ' needs' : ' need') + ' your attention' }));
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
    if (warning) { warning.hidden = !(storagePersisted === false && records.length > 0); }
  }

  /* Read the outbox once, then draw everything from that one reading (no half-drawn lists when
   * several refreshes overlap). */
  function refresh() {
    var everyone = hasOutbox ? SaferOutbox.all() : Promise.resolve([]);
    return Promise.all([myRecords(), everyone]).then(function (both) {
      var records = both[0];
      renderStatus(records);
      if (pageId === 'waiting') { renderWaitingList(records, both[1].length - records.length); }
      if (pageId === 'sign-in') { renderSignInNote(both[1]); }
      return records;
    }).catch(function (error) {
      var message = $('#outbox-message');
      if (message) { message.textContent = 'This phone could not read its saved reports (' + error.message + ').'; }
    });
  }

  /* ---------- sending ---------- */

  function scheduleRetry(records) {
    clearTimeout(retryTimer);
    retryTimer = null;
    var pending = records.filter(function (r) { return r.status === 'pending'; });
    if (!pending.length || !userId || lastState === 'signed-out') { retryDelay = MIN_RETRY_MS; return; }
    retryTimer = setTimeout(function () { drainNow('timer'); }, retryDelay);
    retryDelay = Math.min(retryDelay * 2, MAX_RETRY_MS);
  }

  /* Send what waits (this person's records only; sync.js checks who is signed in). */
  function drainNow(reason) {
    if (!hasOutbox || !userId) { return Promise.resolve(null); }
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
      return refresh().then(function (records) {
        scheduleRetry(records || []);
        return summary;
      });
    });
  }

  /* ---------- forms that go through the outbox ---------- */

  /* The form as the API's `data`: checkboxes valued "y" are booleans, other checkbox groups are
   * lists, radios their checked value, datetime-local an ISO time with this phone's offset,
   * everything else a string (the server coerces numbers). */
  function serialize(form) {
    var data = {};
    var skip = { csrf_token: true, record_id: true };
    Array.prototype.forEach.call(form.elements, function (field) {
      var name = field.name;
      if (!name || field.disabled || skip[name] || /^(submit|button|reset|file)$/.test(field.type) || field.tagName === 'FIELDSET') { return; }
      if (field.type === 'checkbox') {
        var group = form.querySelectorAll('input[type="checkbox"][name="' + name + '"]');
        if (group.length === 1 && field.value === 'y') {
          data[name] = field.checked;
        } else {
          if (!Array.isArray(data[name])) { data[name] = []; }
          if (field.checked) { data[name].push(field.value); }
        }
      } else if (field.type === 'radio') {
        if (field.checked) { data[name] = field.value; }
      } else if (field.type === 'datetime-local') {
        var iso = localValueToIso(field.value);
        if (iso) { data[name] = iso; }
      } else if (field.tagName === 'SELECT' && field.multiple) {
        data[name] = Array.prototype.filter.call(field.options, function (o) { return o.selected; })
          .map(function (o) { return o.value; });
      } else {
        data[name] = field.value;
      }
    });
    return data;
  }

  /* Put a record's data back into the form (to fix a refused report). */
  function fillForm(form, data) {
    Array.prototype.forEach.call(form.elements, function (field) {
      var name = field.name;
      if (!name || !(name in data) || name === 'csrf_token' || name === 'record_id') { return; }
      var value = data[name];
      if (field.type === 'checkbox') {
        field.checked = Array.isArray(value) ? value.indexOf(field.value) !== -1 : !!value;
      } else if (field.type === 'radio') {
        field.checked = field.value === value;
      } else if (field.type === 'datetime-local') {
        var date = new Date(value);
        field.value = isNaN(date.getTime()) ? '' : dateToLocalValue(date);
      } else {
        field.value = value === null || value === undefined ? '' : String(value);
      }
    });
  }

  function setOccurredNow(form) {
    var field = form.querySelector('input[type="datetime-local"][name="occurred_at"]');
    if (field) { field.value = dateToLocalValue(new Date()); }
  }

  function clearFieldErrors(form) {
    Array.prototype.forEach.call(form.querySelectorAll('.js-error'), function (node) { node.remove(); });
    Array.prototype.forEach.call(form.querySelectorAll('.js-has-error'), function (node) {
      node.classList.remove('js-has-error', 'has-error');
    });
    Array.prototype.forEach.call(form.querySelectorAll('[aria-invalid="true"]'), function (node) {
      node.removeAttribute('aria-invalid');
    });
  }

  /* Show the server's reasons next to the answers they are about. Returns the lines it could
   * not place (shown in the summary instead). */
  function showFieldErrors(form, errors) {
    clearFieldErrors(form);
    var unplaced = [];
    Object.keys(errors || {}).forEach(function (name) {
      var container = form.querySelector('#field-' + name);
      var lines = errorLines({ x: errors[name] }).map(function (line) { return line.message; });
      if (!container) {
        lines.forEach(function (message) { unplaced.push((FIELD_LABELS[name] || name) + ': ' + message); });
        return;
      }
      container.classList.add('has-error', 'js-has-error');
      var errorId = name + '-js-error';
      var note = el('p', { class: 'error js-error', id: errorId, text: lines.join(' ') });
      var heading = container.querySelector('legend, label');
      if (heading && heading.parentNode === container) { heading.insertAdjacentElement('afterend', note); }
      else { container.insertBefore(note, container.firstChild); }
      Array.prototype.forEach.call(container.querySelectorAll('input, select, textarea'), function (input) {
        input.setAttribute('aria-invalid', 'true');
        var described = (input.getAttribute('aria-describedby') || '').split(' ').filter(Boolean);
        if (described.indexOf(errorId) === -1) { described.push(errorId); }
        input.setAttribute('aria-describedby', described.join(' '));
      });
      var details = container.closest('details');
      if (details) { details.open = true; }
    });
    return unplaced;
  }

  function showResult(outcome, headline, detailLines) {
    var box = $('#submit-result');
    if (!box) { return; }
    box.textContent = '';
    box.dataset.outcome = outcome;
    box.appendChild(el('p', { class: 'outcome', id: 'submit-outcome', text: headline }));
    (detailLines || []).forEach(function (line) { box.appendChild(el('p', { class: 'detail', text: line })); });
    box.hidden = false;
    box.focus();
    box.scrollIntoView({ block: 'start' });
  }

  function waitingLine() {
    return myRecords().then(function (records) {
      return records.length ? countText(records) + ' waiting on this phone' : 'Nothing waiting on this phone';
    });
  }

  function setBusy(form, busy) {
    Array.prototype.forEach.call(form.querySelectorAll('button[type="submit"], button:not([type])'), function (button) {
      button.disabled = busy;
      if (busy) { button.dataset.label = button.textContent; button.textContent = 'Saving…'; }
      else if (button.dataset.label) { button.textContent = button.dataset.label; }
    });
    form.setAttribute('aria-busy', busy ? 'true' : 'false');
  }

  function onOutboxSubmit(event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute('data-outbox-type')) { return; }
    if (!hasOutbox || !userId) { return; }   // no outbox here: the plain form post still works online
    event.preventDefault();
    if (form.dataset.busy) { return; }        // a second tap while saving makes no second report
    form.dataset.busy = '1';
    setBusy(form, true);

    var priority = parseInt(form.dataset.outboxPriority, 10);
    var record = {
      id: SaferOutbox.newId(),                // fresh every time: this page may be a cached copy
      type: form.dataset.outboxType,
      schema_version: parseInt(form.dataset.schemaVersion || '1', 10),
      recorded_at: SaferOutbox.isoWithOffset(new Date()),
      data: serialize(form),
      user_id: userId,
      priority: isNaN(priority) ? SaferOutbox.DEFAULT_PRIORITY : priority
    };
    var replaces = form.dataset.replaces;

    SaferOutbox.add(record).then(function (saved) {
      // A fixed copy replaces the refused one only once the copy is safely stored.
      var removal = replaces && replaces !== saved.id ? SaferOutbox.remove(replaces) : Promise.resolve();
      return removal.then(function () { delete form.dataset.replaces; return saved; });
    }).then(function (saved) {
      retryDelay = MIN_RETRY_MS;
      requestBackgroundSync();
      refresh();
      return Promise.race([drainNow('submit'), delay(SUBMIT_WAIT_MS)]).then(function () {
        return SaferOutbox.get(saved.id);
      }).then(function (stillHere) {
        return waitingLine().then(function (line) {
          if (!stillHere) {
            showResult('sent', 'Sent', [line]);
            resetForm(form);
          } else if (stillHere.status === 'rejected') {
            var unplaced = showFieldErrors(form, stillHere.errors);
            form.dataset.replaces = stillHere.id;
            showResult('rejected', 'Not sent — some answers need another look. Fix them below and send again.',
              unplaced.concat(stillHere.conflict ? ['A different report with this id already reached the server.'] : []));
          } else {
            showResult('saved', 'Saved on this phone — will send when you have signal', [line]);
            resetForm(form);
          }
          form.dispatchEvent(new CustomEvent('outbox:saved', { bubbles: true, detail: { record: saved, sent: !stillHere } }));
        });
      });
    }).catch(function (error) {
      showResult('rejected', 'Not saved — this phone could not store the report (' + error.message + ').',
        navigator.onLine ? ['Sending it straight to the server instead…'] : ['Keep this page open and try again.']);
      if (navigator.onLine) {
        var hidden = form.querySelector('input[name="record_id"]');
        if (hidden) { hidden.value = SaferOutbox.newId(); }
        HTMLFormElement.prototype.submit.call(form);   // the plain form post (no submit event)
      }
    }).finally(function () {
      delete form.dataset.busy;
      setBusy(form, false);
    });
  }

  function resetForm(form) {
    form.reset();
    clearFieldErrors(form);
    var summary = $('#fix-summary');
    if (summary) { summary.remove(); }
    setOccurredNow(form);
    var details = form.querySelector('details.more');
    if (details) { details.open = false; }
  }

  /* /incidents/new?fix=<id>: open a refused record again, with the server's reasons. */
  function prefillFromOutbox(form) {
    var id = new URLSearchParams(location.search).get('fix');
    if (!id) { return false; }
    SaferOutbox.get(id).then(function (record) {
      if (!record || String(record.user_id) !== String(userId) || record.type !== form.dataset.outboxType) { return; }
      fillForm(form, record.data);
      form.dataset.replaces = record.id;
      var unplaced = showFieldErrors(form, record.errors || {});
      var summary = el('div', { class: 'error-summary', id: 'fix-summary', role: 'alert', tabindex: '-1' }, [
        el('p', { class: 'headline', text: 'Not accepted yet. Fix what is marked below and send it again.' }),
        el('p', { class: 'hint', text: 'The first copy stays on this phone until the fixed one is saved.' })
      ]);
      unplaced.forEach(function (line) { summary.appendChild(el('p', { text: line })); });
      if (record.conflict) { summary.appendChild(el('p', { text: 'Sending it again makes it a new report.' })); }
      form.parentNode.insertBefore(summary, form);
      summary.focus();
    });
    return true;
  }

  function setUpForms() {
    var forms = document.querySelectorAll('form[data-outbox-type]');
    Array.prototype.forEach.call(forms, function (form) {
      var fixing = hasOutbox && userId && prefillFromOutbox(form);
      // A kept copy of the page may be days old: "when" starts as now, unless the server is
      // showing this form back with errors.
      if (!fixing && !document.querySelector('.error-summary')) { setOccurredNow(form); }
    });
    document.addEventListener('submit', onOutboxSubmit);
  }

  /* ---------- the waiting list (/waiting) ---------- */

  function renderWaitingList(records, others) {
    var list = $('#waiting-list');
    if (!list) { return; }
    list.textContent = '';
    if (!records.length) {
      list.appendChild(el('p', { class: 'muted', text: 'Nothing is waiting on this phone. Everything you recorded has reached the server.' }));
    }
    records.forEach(function (record) {
      var rejected = record.status === 'rejected';
      var item = el('article', { class: 'waiting-item', 'data-status': record.status, 'data-record-id': record.id,
                                 'aria-labelledby': 'title-' + record.id });
      item.appendChild(el('h2', { id: 'title-' + record.id, text: TYPE_LABELS[record.type] || record.type }));
      item.appendChild(el('p', { class: 'when', text: 'Recorded ' + formatWhen(record.recorded_at) }));
      var status = rejected ? 'Not accepted — needs your attention' : 'Waiting to send';
      var tried = ' (tried ' + record.attempts + (record.attempts === 1 ? ' time' : ' times');
      if (!rejected && record.failed_alone) {
        // The server failed this record itself: kept here, sent again after the others.
        item.setAttribute('data-failed-alone', 'true');
        status = 'Not stored yet — the server could not store this one' + tried + '). ' +
          'It stays on this phone and is sent again after the others.';
      } else if (!rejected && record.attempts) {
        status += tried + (record.last_error ? ': ' + record.last_error : '') + ')';
      }
      item.appendChild(el('p', { class: 'status', text: status }));
      if (!rejected && record.failed_alone) {
        var words = record.last_error || 'No reason given.';
        if (record.error_reference && words.indexOf(record.error_reference) === -1) {
          words += ' (reference ' + record.error_reference + ')';
        }
        item.appendChild(el('p', { class: 'server-words', text: 'The server said: ' + words }));
      }
      if (record.data && record.data.description) {
        var text = String(record.data.description);
        item.appendChild(el('p', { class: 'summary', text: '“' + (text.length > 120 ? text.slice(0, 117) + '…' : text) + '”' }));
      }
      if (rejected) {
        var errors = el('ul', { class: 'errors' });
        errorLines(record.errors).forEach(function (line) {
          errors.appendChild(el('li', { text: line.label + ': ' + line.message }));
        });
        item.appendChild(errors);
        var actions = el('div', { class: 'item-actions' });
        if (record.type === 'incident') {
          actions.appendChild(el('a', { class: 'button-small fix-link', href: '/incidents/new?fix=' + encodeURIComponent(record.id),
                                        text: record.conflict ? 'Send as a new report' : 'Fix and resend' }));
        }
        var remove = el('button', { type: 'button', class: 'link-button delete-record', text: 'Delete from this phone' });
        remove.addEventListener('click', function () {
          if (window.confirm('Delete this report from this phone? It has not reached the server and cannot be recovered.')) {
            SaferOutbox.remove(record.id).then(refresh);
          }
        });
        actions.appendChild(remove);
        item.appendChild(actions);
      }
      list.appendChild(item);
    });
    // Other people's records on a shared phone: said, never shown.
    if (others > 0 && userId) {
      list.appendChild(el('p', { class: 'muted others', text: others + (others === 1 ? ' record' : ' records') +
        ' made by someone else also ' + (others === 1 ? 'waits' : 'wait') + ' on this phone. ' +
        (others === 1 ? 'It sends' : 'They send') + ' when that person signs in.' }));
    }
  }

  /* The sign-in page: say that records wait (whose they are is not shown to whoever holds the phone). */
  function renderSignInNote(records) {
    var note = $('#phone-waiting-note');
    if (!records.length) { if (note) { note.remove(); } return; }
    if (!note) {
      note = el('p', { id: 'phone-waiting-note', class: 'flash flash-info', role: 'status' });
      var main = $('#main');
      main.insertBefore(note, main.querySelector('h1') ? main.querySelector('h1').nextSibling : main.firstChild);
    }
    var one = records.length === 1;
    note.textContent = countText(records) + (one ? ' is' : ' are') + ' waiting on this phone. ' +
      (one ? 'It sends' : 'They send') + ' after the person who made ' + (one ? 'it' : 'them') + ' signs in.';
  }

  /* ---------- sign-out on a shared phone ---------- */

  function setUpSignOut() {
    var form = $('#sign-out-form');
    if (!form) { return; }
    form.addEventListener('submit', function (event) {
      if (form.dataset.confirmed) { return; }
      event.preventDefault();
      var counting = hasOutbox ? SaferOutbox.count(userId) : Promise.resolve(0);
      counting.catch(function () { return 0; }).then(function (waiting) {
        if (waiting > 0) {
          var sentence = waiting === 1 ? '1 record is still waiting on this phone. It stays here and sends'
                                       : waiting + ' records are still waiting on this phone. They stay here and send';
          if (!window.confirm(sentence + ' the next time you sign in. Sign out anyway?')) { return; }
        }
        return clearKeptPages().then(function () {
          form.dataset.confirmed = '1';
          HTMLFormElement.prototype.submit.call(form);
        });
      });
    });
  }

  /* ---------- start ---------- */

  function start() {
    registerServiceWorker();
    if (!userId && pageId !== 'offline') {
      // Signed out (or never signed in): no page kept for the last person may stay on the phone.
      clearKeptPages();
    }
    setUpSignOut();
    if (!hasOutbox) { return; }
    setUpForms();
    var sendNow = $('#send-now');
    if (sendNow) { sendNow.addEventListener('click', function () { drainNow('button'); }); }
    window.addEventListener('online', function () { drainNow('online'); });
    document.addEventListener('visibilitychange', function () {
      if (document.visibilityState === 'visible') { drainNow('visible'); }
    });
    refresh().then(function (records) {
      if (userId) {
        askPersistentStorage().then(refresh);
        if (records && records.length) { requestBackgroundSync(); }
        drainNow('load');
      }
    });
  }

  start();
}());
