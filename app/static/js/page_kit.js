/* SaferPage: what every page script shares, and nothing else.
 *
 * - who is signed in and which page this is (from <body data-user-id data-page>);
 * - the server's words and kept-page list (self.SaferConfig, set by /phone-config.js, which every
 *   page loads first and the service worker precaches, so it works with no signal; made from
 *   app/labels.py and app/main/offline.py);
 * - small DOM helpers;
 * - named notifications between the page scripts (`on` / `emit`), so no script depends on the
 *   order in which another registered its listeners.
 *
 * Notifications: 'outbox-changed' ({records, everyone}: one reading of the outbox, redraw from
 * it), 'drained' (a drain by this page ended: its summary), 'worker-drained' (the service worker
 * drained: its summary).
 */
(function (root) {
  'use strict';

  var body = document.body;
  var listeners = {};

  // The server's words and kept-page list: /phone-config.js, loaded before this script.
  var config = root.SaferConfig || {};
  var labels = config.labels || {};

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

  function setText(node, text) { if (node && node.textContent !== text) { node.textContent = text; } }

  /* A word from the server's labels: label('record_types', 'check_in'). Never a raw name for
   * a record type (a readable fallback if the page is older than the type). */
  function label(group, key, fallback) {
    var words = labels[group] || {};
    if (Object.prototype.hasOwnProperty.call(words, key)) { return words[key]; }
    if (fallback !== undefined) { return fallback; }
    var text = String(key || '').replace(/_/g, ' ');
    return text.charAt(0).toUpperCase() + text.slice(1);
  }

  /* "report(s)" when all are incident reports, else "record(s)". */
  function countText(records) {
    var count = records.length;
    var reports = count && records.every(function (r) { return r.type === 'incident'; });
    return count + ' ' + (reports ? (count === 1 ? 'report' : 'reports') : (count === 1 ? 'record' : 'records'));
  }

  /* The pages this page asks the service worker to keep (the server's one list). */
  function keptPages(pageId) {
    var group = /^lone-working/.test(pageId || '') ? 'lone-working' : null;
    return (config.kept_pages || []).filter(function (page) {
      return page.kept_from === 'any' || page.kept_from === group;
    }).map(function (page) { return page.path; });
  }

  function on(name, fn) { (listeners[name] = listeners[name] || []).push(fn); }

  function emit(name, detail) {
    (listeners[name] || []).slice().forEach(function (fn) {
      try { fn(detail); } catch (error) { console.error('Safer Libraries: ' + name + ' handler failed', error); }
    });
  }

  root.SaferPage = {
    userId: body.dataset.userId || '',
    userName: body.dataset.userName || '',
    pageId: body.dataset.page || '',
    hasOutbox: !!(root.SaferOutbox && root.SaferSync && root.indexedDB),
    config: config,
    $: $, el: el, setText: setText, label: label, countText: countText, keptPages: keptPages,
    on: on, emit: emit
  };
}(window));
