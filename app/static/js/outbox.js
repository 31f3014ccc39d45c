/* The outbox: what a worker records waits here, in IndexedDB, until the server confirms it.
 *
 * Loaded by pages (<script defer>) and by the service worker (importScripts), so it touches no
 * DOM. Records never expire: nothing here deletes a record except remove(), which the sync
 * client calls only after the server answered "created" or "duplicate" for it (and the page
 * calls when a worker's fixed copy of a refused record has been saved).
 *
 * A record: {id, type, schema_version, recorded_at, data, user_id, priority, created_at,
 *            status: 'pending' | 'rejected', errors, conflict, attempts, last_error, last_attempt_at,
 *            failed_alone, error_reference}
 * failed_alone: the server failed this record when it was sent on its own (an error of the
 * server's, not the worker's): it stays pending and sync.js sends it after the others, with
 * last_error holding the server's words and error_reference its reference, when it gave one.
 */
(function (root) {
  'use strict';

  var DB_NAME = 'safer-outbox';
  var DB_VERSION = 1;
  var STORE = 'records';
  var DEFAULT_PRIORITY = 10;   // alarm and duress records use 0: lower sends first
  var dbPromise = null;

  /* idb-keyval's promisifyRequest: an IDBRequest (or IDBOpenDBRequest) as a promise. */
  function promisifyRequest(request) {
    return new Promise(function (resolve, reject) {
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  function openDb() {
    if (!dbPromise) {
      var request = root.indexedDB.open(DB_NAME, DB_VERSION);
      request.onupgradeneeded = function () {
        var db = request.result;
        if (!db.objectStoreNames.contains(STORE)) {
          db.createObjectStore(STORE, { keyPath: 'id' });
        }
      };
      dbPromise = promisifyRequest(request).then(function (db) {
        // Another context upgrading the database, or the browser closing it: open afresh next time.
        db.onversionchange = function () { db.close(); dbPromise = null; };
        db.onclose = function () { dbPromise = null; };
        return db;
      });
      dbPromise.catch(function () { dbPromise = null; });
    }
    return dbPromise;
  }

  /* Run `work(store, out)` in one transaction; resolve with out.value once the transaction has
   * COMPLETED (for writes: once the browser says the data is stored, not merely queued). */
  function withStore(mode, work) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        // 'strict' durability: the write is flushed to disk before `complete` fires. Browsers
        // that do not know the option ignore it.
        var tx = db.transaction(STORE, mode, { durability: mode === 'readwrite' ? 'strict' : 'default' });
        var out = { value: undefined };
        tx.oncomplete = function () { resolve(out.value); };
        // A failed request (say, add() of an id already there) reaches onerror before the
        // transaction has its own error set: take the request's.
        tx.onerror = function (event) { reject(event.target.error || tx.error || new Error('The outbox could not be written.')); };
        tx.onabort = function () { reject(tx.error || new Error('The outbox could not be read or written.')); };
        work(tx.objectStore(STORE), out);
      });
    });
  }

  function pad(number, width) {
    var text = String(Math.abs(number));
    while (text.length < (width || 2)) { text = '0' + text; }
    return text;
  }

  /* The phone's local time with its UTC offset, e.g. 2026-11-25T16:40:00.123+01:00. */
  function isoWithOffset(date) {
    date = date || new Date();
    var offset = -date.getTimezoneOffset();
    var sign = offset >= 0 ? '+' : '-';
    return date.getFullYear() + '-' + pad(date.getMonth() + 1) + '-' + pad(date.getDate()) +
      'T' + pad(date.getHours()) + ':' + pad(date.getMinutes()) + ':' + pad(date.getSeconds()) +
      '.' + pad(date.getMilliseconds(), 3) + sign + pad(Math.floor(Math.abs(offset) / 60)) + ':' + pad(Math.abs(offset) % 60);
  }

  function newId() {
    return root.crypto.randomUUID();
  }

  function sameUser(record, userId) {
    return userId === undefined || userId === null || String(record.user_id) === String(userId);
  }

  /* Creation times in this context strictly increase, so records made in the same millisecond
   * still send in the order they were made. */
  var lastCreatedAt = 0;
  function createdAtNow() {
    lastCreatedAt = Math.max(Date.now(), lastCreatedAt + 1);
    return lastCreatedAt;
  }

  function byPriorityThenAge(a, b) {
    return (a.priority - b.priority) || (a.created_at - b.created_at);
  }

  /* Store a new record. Refuses to overwrite: a record id already in the outbox is an error. */
  function add(fields) {
    if (!fields || !fields.type || !fields.data) {
      return Promise.reject(new Error('A record needs a type and data.'));
    }
    if (fields.user_id === undefined || fields.user_id === null || fields.user_id === '') {
      return Promise.reject(new Error('A record must belong to the person who made it.'));
    }
    var record = {
      id: fields.id || newId(),
      type: String(fields.type),
      schema_version: Number(fields.schema_version || 1),
      recorded_at: fields.recorded_at || isoWithOffset(new Date()),
      data: fields.data,
      user_id: String(fields.user_id),
      priority: typeof fields.priority === 'number' && !isNaN(fields.priority) ? fields.priority : DEFAULT_PRIORITY,
      created_at: fields.created_at || createdAtNow(),
      status: 'pending',
      errors: null,
      conflict: false,
      attempts: 0,
      last_error: null,
      last_attempt_at: null,
      failed_alone: false,
      error_reference: null
    };
    return withStore('readwrite', function (store, out) {
      store.add(record);   // add, not put: an existing id is never overwritten
      out.value = record;
    });
  }

  /* Every record on this phone (all users), oldest priority first. */
  function all() {
    return withStore('readonly', function (store, out) {
      var request = store.getAll();
      request.onsuccess = function () { out.value = request.result.sort(byPriorityThenAge); };
    });
  }

  /* This person's records (pending and rejected), in sending order. */
  function list(userId) {
    return all().then(function (records) {
      return records.filter(function (record) { return sameUser(record, userId); });
    });
  }

  function count(userId) {
    return list(userId).then(function (records) { return records.length; });
  }

  function get(id) {
    return withStore('readonly', function (store, out) {
      var request = store.get(id);
      request.onsuccess = function () { out.value = request.result; };
    });
  }

  function remove(id) {
    return withStore('readwrite', function (store) { store.delete(id); });
  }

  /* Change a stored record's sending state (never its content) in one transaction. */
  function update(id, change) {
    return withStore('readwrite', function (store, out) {
      var request = store.get(id);
      request.onsuccess = function () {
        var record = request.result;
        if (!record) { return; }   // already confirmed and removed by another sender
        change(record);
        store.put(record);
        out.value = record;
      };
    });
  }

  /* The server refused it: it stays, with the server's reasons, for the worker to see and fix. */
  function markRejected(id, errors, conflict) {
    return update(id, function (record) {
      record.status = 'rejected';
      record.errors = errors || {};
      record.conflict = !!conflict;
      record.attempts += 1;
      record.last_attempt_at = Date.now();
      record.last_error = conflict ? 'A different record with this id is already on the server.' : 'The server did not accept it.';
    });
  }

  /* A try that did not get an answer for this record: it stays pending. */
  function markAttempt(id, message) {
    return update(id, function (record) {
      record.attempts += 1;
      record.last_attempt_at = Date.now();
      record.last_error = message || null;
    });
  }

  /* The server failed this record on its own (a 200 with status "error" for it, or a failed
   * answer when it was sent alone): it stays pending, never deleted, and is set aside so the
   * next drain sends it after the others. `message` is the server's words for the worker. */
  function markFailedAlone(id, message, reference) {
    return update(id, function (record) {
      record.attempts += 1;
      record.last_attempt_at = Date.now();
      record.last_error = message || 'The server could not store this record.';
      record.failed_alone = true;
      record.error_reference = reference || null;
    });
  }

  root.SaferOutbox = {
    DEFAULT_PRIORITY: DEFAULT_PRIORITY,
    add: add,
    all: all,
    list: list,
    count: count,
    get: get,
    remove: remove,
    markRejected: markRejected,
    markAttempt: markAttempt,
    markFailedAlone: markFailedAlone,
    isoWithOffset: isoWithOffset,
    newId: newId
  };
}(typeof self !== 'undefined' ? self : this));
