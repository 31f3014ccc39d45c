/* The sync client: sends what waits in the outbox, and removes a record only when the server
 * answered "created" or "duplicate" for it.
 *
 * Loaded by pages and by the service worker (importScripts); needs SaferOutbox. One call:
 *   SaferSync.drain({userId}) -> {state: 'sent'|'nothing'|'offline'|'signed-out'|'error',
 *                                 sent, rejected, waiting, user_id}
 *
 * Rules (docs: /work/shared/OFFLINE-PITFALLS.md):
 * - connected only if GET /api/v1/session answers 200 JSON with user.id and csrf_token: a
 *   captive portal or the service worker's offline page answering 200 HTML is no signal (9);
 * - the CSRF token comes from that fresh answer, never from the outbox (3);
 * - only the signed-in person's records are sent, never as anyone else (12);
 * - any answer but 200 JSON keeps every record and notes the try (1, 2).
 */
(function (root) {
  'use strict';

  var BATCH_SIZE = 50;
  var TIMEOUT_MS = 30000;
  var LOCK_NAME = 'safer-outbox-drain';

  function fetchWithTimeout(url, options) {
    var controller = new AbortController();
    var timer = setTimeout(function () { controller.abort(); }, TIMEOUT_MS);
    options.signal = controller.signal;
    return fetch(url, options).finally(function () { clearTimeout(timer); });
  }

  /* The answer's JSON body, or null when it is not JSON (an HTML page, a portal, nothing). */
  function readJson(response) {
    var type = response.headers.get('Content-Type') || '';
    if (type.indexOf('application/json') === -1) { return Promise.resolve(null); }
    return response.json().catch(function () { return null; });
  }

  /* Who is signed in, asked fresh every time. */
  function checkSession() {
    return fetchWithTimeout('/api/v1/session', {
      credentials: 'same-origin', cache: 'no-store', redirect: 'manual',
      headers: { Accept: 'application/json' }
    }).then(function (response) {
      if (response.status === 401) { return { state: 'signed-out' }; }
      // redirect: 'manual' makes a redirect an 'opaqueredirect' with status 0: a login page or
      // a portal, never success.
      if (response.status !== 200) {
        return { state: response.status >= 500 ? 'error' : 'offline', message: 'The server answered ' + response.status + '.' };
      }
      return readJson(response).then(function (body) {
        if (!body || !body.user || body.user.id === undefined || body.user.id === null || !body.csrf_token) {
          return { state: 'offline', message: 'Something that is not the server answered (no signal, or a Wi-Fi sign-in page).' };
        }
        return { state: 'connected', user: body.user, token: body.csrf_token };
      });
    }, function (error) {
      return { state: 'offline', message: 'No connection (' + error.message + ').' };
    });
  }

  function envelope(record) {
    return {
      id: record.id, type: record.type, schema_version: record.schema_version,
      recorded_at: record.recorded_at, data: record.data
    };
  }

  function markAll(records, message) {
    return Promise.all(records.map(function (record) { return SaferOutbox.markAttempt(record.id, message); }));
  }

  function describeFailure(response, body) {
    var text = body && body.error && body.error.message ? ' ' + body.error.message : '';
    return 'The server answered ' + (response.status || 'with a redirect') + '.' + text;
  }

  /* Send one batch; resolve with {state, sent, rejected}. Every record is either removed
   * (created/duplicate), marked rejected, or has its attempt noted. */
  function sendBatch(batch, token) {
    var body = JSON.stringify({ sent_at: SaferOutbox.isoWithOffset(new Date()), records: batch.map(envelope) });
    return fetchWithTimeout('/api/v1/sync', {
      method: 'POST', credentials: 'same-origin', cache: 'no-store', redirect: 'manual',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRFToken': token },
      body: body
    }).then(function (response) {
      return readJson(response).then(function (payload) {
        if (response.status !== 200 || !payload || !Array.isArray(payload.results)) {
          var state = response.status === 401 ? 'signed-out' : 'error';
          return markAll(batch, describeFailure(response, payload)).then(function () {
            return { state: state, sent: 0, rejected: 0 };
          });
        }
        return applyResults(batch, payload.results);
      });
    }, function (error) {
      // The request may or may not have reached the server: the record stays, and sending it
      // again is safe because the server stores a record id once.
      return markAll(batch, 'No answer from the server (' + error.message + ').').then(function () {
        return { state: 'offline', sent: 0, rejected: 0 };
      });
    });
  }

  function applyResults(batch, results) {
    var byId = {};
    results.forEach(function (result) { if (result && result.id) { byId[String(result.id)] = result; } });
    var outcome = { state: 'sent', sent: 0, rejected: 0 };
    return Promise.all(batch.map(function (record) {
      var result = byId[record.id];
      if (result && (result.status === 'created' || result.status === 'duplicate')) {
        outcome.sent += 1;
        return SaferOutbox.remove(record.id);
      }
      if (result && result.status === 'rejected') {
        outcome.rejected += 1;
        return SaferOutbox.markRejected(record.id, result.errors || {}, !!result.conflict);
      }
      return SaferOutbox.markAttempt(record.id, 'The server did not answer for this record.');
    })).then(function () { return outcome; });
  }

  function waitingFor(userId) {
    return SaferOutbox.count(userId);
  }

  function drainOnce(options) {
    var hintUser = options && options.userId ? options.userId : null;
    return checkSession().then(function (session) {
      if (session.state !== 'connected') {
        return waitingFor(hintUser).then(function (waiting) {
          return { state: session.state, sent: 0, rejected: 0, waiting: waiting, user_id: hintUser, message: session.message };
        });
      }
      var userId = String(session.user.id);
      return SaferOutbox.list(userId).then(function (records) {
        var pending = records.filter(function (record) { return record.status === 'pending'; });
        var summary = { state: pending.length ? 'sent' : 'nothing', sent: 0, rejected: 0, user_id: userId };
        var batches = [];
        for (var i = 0; i < pending.length; i += BATCH_SIZE) { batches.push(pending.slice(i, i + BATCH_SIZE)); }
        // Batches go one after another, in priority order; the first failure stops the rest.
        return batches.reduce(function (previous, batch) {
          return previous.then(function (stop) {
            if (stop) { return true; }
            return sendBatch(batch, session.token).then(function (outcome) {
              summary.sent += outcome.sent;
              summary.rejected += outcome.rejected;
              if (outcome.state !== 'sent') { summary.state = outcome.state; return true; }
              return false;
            });
          });
        }, Promise.resolve(false)).then(function () {
          return waitingFor(userId).then(function (waiting) { summary.waiting = waiting; return summary; });
        });
      });
    });
  }

  /* Across contexts (pages and the service worker) the Web Locks API, where there is one,
   * keeps drains one at a time; without it overlapping drains are still safe, because the
   * server stores each record id once. */
  function withLock(work) {
    var locks = root.navigator && root.navigator.locks;
    if (locks && typeof locks.request === 'function') {
      return locks.request(LOCK_NAME, function () { return work(); });
    }
    return work();
  }

  var current = null;   // the drain under way in this context
  var next = null;      // one more drain, asked for while one was under way

  /* Drains in one context never overlap: a drain asked for during another runs right after it
   * (so a record saved meanwhile is not missed). */
  function drain(options) {
    if (!current) {
      current = withLock(function () { return drainOnce(options); }).finally(function () { current = null; });
      return current;
    }
    if (!next) {
      next = current.catch(function () { return null; }).then(function () {
        next = null;
        return drain(options);
      });
    }
    return next;
  }

  root.SaferSync = { drain: drain, checkSession: checkSession, BATCH_SIZE: BATCH_SIZE };
}(typeof self !== 'undefined' ? self : this));
