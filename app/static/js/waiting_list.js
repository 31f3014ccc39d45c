/* The "Waiting on this phone" list (/waiting): every record of this person not yet on the
 * server, named in the server's words (never a raw type name like check_in), with the server's
 * reasons for anything refused. Drawn from the sender's one reading of the outbox
 * (SaferPage 'outbox-changed').
 */
(function (root) {
  'use strict';

  var page = root.SaferPage;
  var el = page.el;

  function formatWhen(iso) {
    var date = new Date(iso);
    if (isNaN(date.getTime())) { return iso; }
    return date.toLocaleString('en-GB', { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric',
                                          hour: '2-digit', minute: '2-digit' });
  }

  function statusText(record) {
    var rejected = record.status === 'rejected';
    var text = page.label('outbox_statuses', rejected ? 'rejected' : 'pending');
    var tried = ' (tried ' + record.attempts + (record.attempts === 1 ? ' time' : ' times');
    if (!rejected && record.failed_alone) {
      // The server failed this record itself: kept here, sent again after the others.
      return 'Not stored yet — the server could not store this one' + tried + '). ' +
        'It stays on this phone and is sent again after the others.';
    }
    if (!rejected && record.attempts) { text += tried + (record.last_error ? ': ' + record.last_error : '') + ')'; }
    return text;
  }

  function item(record) {
    var rejected = record.status === 'rejected';
    var node = el('article', { class: 'waiting-item', 'data-status': record.status, 'data-record-id': record.id,
                               'aria-labelledby': 'title-' + record.id });
    node.appendChild(el('h2', { id: 'title-' + record.id, text: page.label('record_types', record.type) }));
    node.appendChild(el('p', { class: 'when', text: 'Recorded ' + formatWhen(record.recorded_at) }));
    if (!rejected && record.failed_alone) { node.setAttribute('data-failed-alone', 'true'); }
    node.appendChild(el('p', { class: 'status', text: statusText(record) }));
    if (!rejected && record.failed_alone) {
      var words = record.last_error || 'No reason given.';
      if (record.error_reference && words.indexOf(record.error_reference) === -1) {
        words += ' (reference ' + record.error_reference + ')';
      }
      node.appendChild(el('p', { class: 'server-words', text: 'The server said: ' + words }));
    }
    if (record.data && record.data.description) {
      var text = String(record.data.description);
      node.appendChild(el('p', { class: 'summary', text: '“' + (text.length > 120 ? text.slice(0, 117) + '…' : text) + '”' }));
    }
    if (rejected) {
      var errors = el('ul', { class: 'errors' });
      SaferFieldErrors.lines(record.errors).forEach(function (line) {
        errors.appendChild(el('li', { text: line.label + ': ' + line.message }));
      });
      node.appendChild(errors);
      var actions = el('div', { class: 'item-actions' });
      if (record.type === 'incident') {
        actions.appendChild(el('a', { class: 'button-small fix-link', href: '/incidents/new?fix=' + encodeURIComponent(record.id),
                                      text: record.conflict ? 'Send as a new report' : 'Fix and resend' }));
      }
      var remove = el('button', { type: 'button', class: 'link-button delete-record', text: 'Delete from this phone' });
      remove.addEventListener('click', function () {
        if (root.confirm('Delete this report from this phone? It has not reached the server and cannot be recovered.')) {
          SaferOutbox.remove(record.id).then(SaferSender.refresh);
        }
      });
      actions.appendChild(remove);
      node.appendChild(actions);
    }
    return node;
  }

  function render(reading) {
    var list = page.$('#waiting-list');
    if (!list) { return; }
    var records = reading.records;
    var others = reading.everyone.length - records.length;
    list.textContent = '';
    if (!records.length) {
      list.appendChild(el('p', { class: 'muted', text: 'Nothing is waiting on this phone. Everything you recorded has reached the server.' }));
    }
    records.forEach(function (record) { list.appendChild(item(record)); });
    // Other people's records on a shared phone: said, never shown.
    if (others > 0 && page.userId) {
      list.appendChild(el('p', { class: 'muted others', text: others + (others === 1 ? ' record' : ' records') +
        ' made by someone else also ' + (others === 1 ? 'waits' : 'wait') + ' on this phone. ' +
        (others === 1 ? 'It sends' : 'They send') + ' when that person signs in.' }));
    }
  }

  if (page.pageId === 'waiting') { page.on('outbox-changed', render); }
}(window));
