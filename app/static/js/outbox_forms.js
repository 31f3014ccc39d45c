/* SaferForms: a <form data-outbox-type> is saved to the outbox, then sent.
 *
 * On submit: the `beforeSave` hooks of the form's type run (in the order registered; one that
 * returns false stops the save, e.g. a start the server would refuse); the form becomes a record
 * (a fresh id, the phone's time, the form's fields as `data`) kept in the outbox; the sender
 * tries to send it at once and the page waits up to ten seconds for the answer, then says "Sent",
 * "Saved on this phone" or what the server refused. Then the `afterSave` hooks run with
 * {form, record, outcome: 'sent' | 'saved' | 'rejected', stored}, once the form is usable again;
 * last, the form fires 'outbox:saved' ({record, sent}) for anyone else watching.
 *
 * Without an outbox (or signed out) the plain form post goes to the server as it is.
 *
 * Contract: SaferForms.beforeSave(type, fn(form)), SaferForms.afterSave(type, fn(saved)),
 * SaferForms.serialize(form) -> data. `type` '*' means every type.
 */
(function (root) {
  'use strict';

  var SUBMIT_WAIT_MS = 10000;     // how long a submit waits for the server before saying "Saved"

  var page = root.SaferPage;
  var $ = page.$;
  var el = page.el;
  var userId = page.userId;
  var hooks = { before: {}, after: {} };

  function addHook(kind, type, fn) { (hooks[kind][type] = hooks[kind][type] || []).push(fn); }

  function hooksFor(kind, type) { return (hooks[kind][type] || []).concat(hooks[kind]['*'] || []); }

  function delay(ms) { return new Promise(function (resolve) { setTimeout(resolve, ms); }); }

  function pad(n) { return (n < 10 ? '0' : '') + n; }

  /* A datetime-local value (the phone's wall clock, no offset) as ISO-8601 with the phone's offset. */
  function localValueToIso(value) {
    var match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?/.exec(value || '');
    if (!match) { return null; }
    var date = new Date(+match[1], +match[2] - 1, +match[3], +match[4], +match[5], +(match[6] || 0));
    return SaferOutbox.isoWithOffset(date);
  }

  function dateToLocalValue(date) {
    return date.getFullYear() + '-' + pad(date.getMonth() + 1) + '-' + pad(date.getDate()) +
      'T' + pad(date.getHours()) + ':' + pad(date.getMinutes());
  }

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
    return SaferSender.myRecords().then(function (records) {
      return records.length ? page.countText(records) + ' waiting on this phone' : 'Nothing waiting on this phone';
    });
  }

  function setBusy(form, busy) {
    Array.prototype.forEach.call(form.querySelectorAll('button[type="submit"], button:not([type])'), function (button) {
      button.disabled = busy;
      if (busy) { button.dataset.label = button.textContent; button.textContent = 'Saving…'; }
      else if (button.dataset.label) { button.textContent = button.dataset.label; delete button.dataset.label; }
    });
    form.setAttribute('aria-busy', busy ? 'true' : 'false');
  }

  function resetForm(form) {
    form.reset();
    SaferFieldErrors.clear(form);
    var summary = $('#fix-summary');
    if (summary) { summary.remove(); }
    setOccurredNow(form);
    var details = form.querySelector('details.more');
    if (details) { details.open = false; }
  }

  /* Keep the record, try to send it, and say what happened. Resolves to {record, outcome, stored}. */
  function save(form, record) {
    var replaces = form.dataset.replaces;
    return SaferOutbox.add(record).then(function (saved) {
      // A fixed copy replaces the refused one only once the copy is safely stored.
      var removal = replaces && replaces !== saved.id ? SaferOutbox.remove(replaces) : Promise.resolve();
      return removal.then(function () { delete form.dataset.replaces; return saved; });
    }).then(function (saved) {
      SaferSender.resetRetry();
      if (root.SaferSW) { SaferSW.requestBackgroundSync(); }
      SaferSender.refresh();
      return Promise.race([SaferSender.drainNow('submit'), delay(SUBMIT_WAIT_MS)]).then(function () {
        return SaferOutbox.get(saved.id);
      }).then(function (stored) {
        return waitingLine().then(function (line) {
          var outcome = !stored ? 'sent' : (stored.status === 'rejected' ? 'rejected' : 'saved');
          if (outcome === 'sent') {
            showResult('sent', 'Sent', [line]);
            resetForm(form);
          } else if (outcome === 'rejected') {
            var unplaced = SaferFieldErrors.show(form, stored.errors);
            form.dataset.replaces = stored.id;
            showResult('rejected', 'Not sent — some answers need another look. Fix them below and send again.',
              unplaced.concat(stored.conflict ? ['A different report with this id already reached the server.'] : []));
          } else {
            showResult('saved', 'Saved on this phone — will send when you have signal', [line]);
            resetForm(form);
          }
          return { form: form, record: saved, outcome: outcome, stored: stored || null };
        });
      });
    });
  }

  function onSubmit(event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute('data-outbox-type')) { return; }
    if (!page.hasOutbox || !userId) { return; }   // no outbox here: the plain form post still works online
    event.preventDefault();
    if (form.dataset.busy) { return; }        // a second tap while saving makes no second report
    var type = form.dataset.outboxType;
    var go = hooksFor('before', type).every(function (fn) { return fn(form) !== false; });
    if (!go) { return; }
    form.dataset.busy = '1';
    setBusy(form, true);
    var priority = parseInt(form.dataset.outboxPriority, 10);
    var record = {
      id: SaferOutbox.newId(),                // fresh every time: this page may be a cached copy
      type: type,
      schema_version: parseInt(form.dataset.schemaVersion || '1', 10),
      recorded_at: SaferOutbox.isoWithOffset(new Date()),
      data: serialize(form),
      user_id: userId,
      priority: isNaN(priority) ? SaferOutbox.DEFAULT_PRIORITY : priority
    };
    save(form, record).then(function (saved) {
      delete form.dataset.busy;
      setBusy(form, false);
      hooksFor('after', type).forEach(function (fn) {
        try { fn(saved); } catch (error) { console.error('Safer Libraries: afterSave failed', error); }
      });
      form.dispatchEvent(new CustomEvent('outbox:saved', { bubbles: true,
        detail: { record: saved.record, sent: saved.outcome === 'sent', outcome: saved.outcome } }));
    }, function (error) {
      delete form.dataset.busy;
      setBusy(form, false);
      showResult('rejected', 'Not saved — this phone could not store the report (' + error.message + ').',
        navigator.onLine ? ['Sending it straight to the server instead…'] : ['Keep this page open and try again.']);
      if (navigator.onLine) {
        var hidden = form.querySelector('input[name="record_id"]');
        if (hidden) { hidden.value = SaferOutbox.newId(); }
        HTMLFormElement.prototype.submit.call(form);   // the plain form post (no submit event)
      }
    });
  }

  /* /incidents/new?fix=<id>: open a refused record again, with the server's reasons. */
  function prefillFromOutbox(form) {
    var id = new URLSearchParams(location.search).get('fix');
    if (!id) { return false; }
    SaferOutbox.get(id).then(function (record) {
      if (!record || String(record.user_id) !== String(userId) || record.type !== form.dataset.outboxType) { return; }
      fillForm(form, record.data);
      form.dataset.replaces = record.id;
      var unplaced = SaferFieldErrors.show(form, record.errors || {});
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

  function start() {
    if (!page.hasOutbox) { return; }
    Array.prototype.forEach.call(document.querySelectorAll('form[data-outbox-type]'), function (form) {
      var fixing = userId && prefillFromOutbox(form);
      // A kept copy of the page may be days old: "when" starts as now, unless the server is
      // showing this form back with errors.
      if (!fixing && !document.querySelector('.error-summary')) { setOccurredNow(form); }
    });
    document.addEventListener('submit', onSubmit);
  }

  root.SaferForms = {
    beforeSave: function (type, fn) { addHook('before', type, fn); },
    afterSave: function (type, fn) { addHook('after', type, fn); },
    serialize: serialize
  };
  start();
}(window));
