/* SaferSW: this page's side of the service worker.
 *
 * Registers /sw.js, asks it to keep the pages the server lists for use with no signal
 * (SaferPage.keptPages), forgets kept pages on sign-out, asks for a Background Sync where the
 * browser has one (pitfall 8: the page's own triggers send elsewhere), and asks for persistent
 * storage (pitfall 10). A drain done by the service worker is passed on as 'worker-drained'.
 *
 * Contract: SaferSW.requestBackgroundSync(), SaferSW.clearKeptPages() -> Promise,
 * SaferSW.askPersistentStorage() -> Promise, SaferSW.storagePersisted (null: not known).
 */
(function (root) {
  'use strict';

  var page = root.SaferPage;
  var worker = navigator.serviceWorker;

  var api = { storagePersisted: null };

  function keepPagesForOffline() {
    var controller = worker && worker.controller;
    if (controller && page.userId) { controller.postMessage({ type: 'keep-pages', urls: page.keptPages(page.pageId) }); }
  }

  function register() {
    if (!worker) { return; }
    worker.register('/sw.js', { scope: '/' }).catch(function (error) {
      console.warn('Safer Libraries: the offline helper could not start', error);
    });
    if (page.userId) {
      keepPagesForOffline();
      worker.addEventListener('controllerchange', keepPagesForOffline);
    }
    worker.addEventListener('message', function (event) {
      if (event.data && event.data.type === 'outbox-changed') { page.emit('worker-drained', event.data.summary || {}); }
    });
  }

  api.requestBackgroundSync = function () {
    if (!worker || !('SyncManager' in root)) { return; }
    worker.ready.then(function (registration) {
      return registration.sync && registration.sync.register('outbox');
    }).catch(function () { /* not allowed here: the timer and the online event still send */ });
  };

  /* Delete the kept pages (never the outbox): the next person must not see the last one's pages. */
  api.clearKeptPages = function () {
    var jobs = [];
    if (root.caches) {
      jobs.push(caches.keys().then(function (names) {
        // The prefix is the server's (phone config), the same one the service worker names its caches by.
        var prefix = (page.config.cache_prefixes || {}).pages;
        return Promise.all(names.filter(function (name) { return !!prefix && name.indexOf(prefix) === 0; })
          .map(function (name) { return caches.delete(name); }));
      }));
    }
    if (worker && worker.controller) { worker.controller.postMessage({ type: 'clear-pages' }); }
    return Promise.all(jobs).catch(function () { return null; });
  };

  api.askPersistentStorage = function () {
    var storage = navigator.storage;
    if (!storage || typeof storage.persist !== 'function') { return Promise.resolve(); }
    var already = typeof storage.persisted === 'function' ? storage.persisted() : Promise.resolve(false);
    return already.then(function (persisted) {
      return persisted || storage.persist();
    }).then(function (granted) {
      api.storagePersisted = !!granted;
    }).catch(function () {
      api.storagePersisted = false;
    });
  };

  register();
  if (!page.userId && page.pageId !== 'offline') {
    // Signed out (or never signed in): no page kept for the last person may stay on the phone.
    api.clearKeptPages();
  }
  root.SaferSW = api;
}(window));
