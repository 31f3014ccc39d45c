/* SaferFieldErrors: the server's reasons for refusing a record, in words, next to the answers
 * they are about.
 *
 * Contract: lines(errors) -> [{label, message}] ({field: [messages]} or nested, each field named
 * by the server's labels), show(form, errors) -> [lines it could not place], clear(form).
 */
(function (root) {
  'use strict';

  var page = root.SaferPage;

  function fieldLabel(name) { return page.label('fields', name, name); }

  function lines(errors) {
    var found = [];
    function walk(label, value) {
      if (Array.isArray(value)) { value.forEach(function (v) { walk(label, v); }); }
      else if (value && typeof value === 'object') { Object.keys(value).forEach(function (k) { walk(label, value[k]); }); }
      else if (value !== undefined && value !== null) { found.push({ label: label, message: String(value) }); }
    }
    Object.keys(errors || {}).forEach(function (field) { walk(fieldLabel(field), errors[field]); });
    return found;
  }

  function clear(form) {
    Array.prototype.forEach.call(form.querySelectorAll('.js-error'), function (node) { node.remove(); });
    Array.prototype.forEach.call(form.querySelectorAll('.js-has-error'), function (node) {
      node.classList.remove('js-has-error', 'has-error');
    });
    Array.prototype.forEach.call(form.querySelectorAll('[aria-invalid="true"]'), function (node) {
      node.removeAttribute('aria-invalid');
    });
  }

  function show(form, errors) {
    clear(form);
    var unplaced = [];
    Object.keys(errors || {}).forEach(function (name) {
      var container = form.querySelector('#field-' + name);
      var messages = lines({ x: errors[name] }).map(function (line) { return line.message; });
      if (!container) {
        messages.forEach(function (message) { unplaced.push(fieldLabel(name) + ': ' + message); });
        return;
      }
      container.classList.add('has-error', 'js-has-error');
      var errorId = name + '-js-error';
      var note = page.el('p', { class: 'error js-error', id: errorId, text: messages.join(' ') });
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

  root.SaferFieldErrors = { lines: lines, show: show, clear: clear };
}(window));
