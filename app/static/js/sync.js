/* The sync client: sends what waits in the outbox, and removes a record only when the server
 * answered "created" or "duplicate" for it.
 *
 * Loaded by pages and by the service worker (importScripts); needs SaferOutbox. One call:
 *   SaferSync.drain({userId}) -> {state: 'sent'|'nothing'|'offline'|'signed-out'|'error',
 *                                 sent, rejected, waiting, user_id}
 * and one pure function, exported for tests:
 *   SaferSync.planBatches(records, batchSize) -> [{records, urgent, setAside}] in sending order
 *
 * Rules (the offline pitfalls are numbered in docs/offline-sync.md):
 * - connected only if GET /api/v1/session answers 200 JSON with user.id and csrf_token: a
 *   captive portal or the service worker's offline page answering 200 HTML is no signal (9);
 * - the CSRF token comes from that fresh answer, never from the outbox (3);
 * - only the signed-in person's records are sent, never as anyone else (12);
 * - no answer, or any answer but a 200 JSON result for a record, keeps that record and notes the
 *   try (1, 2): nothing is ever deleted unless the server said "created" or "duplicate".
 *
 * The order of sending (issue 6: one bad record must never hold back an alarm):
 * - urgent records (URGENT_TYPES: an alarm, a finish, which may be a duress finish) go first, in
 *   a batch of their own, whatever their priority number says;
 * - then the other records, in batches of BATCH_SIZE, in the outbox's order (priority, then age);
 * - last, records the server failed when they were sent on their own ("set aside"), urgent ones
 *   first, least recently tried first: a record the server cannot store never delays the others.
 *
 * When the server fails a batch as a whole (any answer but 200 JSON with a results list, other
 * than 401; 413 too), the batch is sent again one record at a time in the same drain, so one
 * poison record cannot block the records after it. A record that fails on its own stays pending,
 * set aside, with the server's words for the worker to see. The server answering
 * {"status": "error", "message", "reference"} for one record in a 200 is the same: kept, set aside.
 * Only no connection (fetch fails) or 401 (signed out) stops a drain.
 *
 * A server failing every request (or a busy one answering 503) would otherwise be sent every
 * record one by one: when GIVE_UP_AFTER records in a row have failed on their own, with no
 * record answered in between, the drain stops sending ordinary records (urgent ones are still
 * each tried) and they wait for the next drain. Records set aside go to the back, so the next
 * drain tries the others first: a poison record can delay the records behind it by one drain,
 * never for ever.
 */
(function (root) {
  'use strict';

  var BATCH_SIZE = 50;
  var TIMEOUT_MS = 30000;
  var LOCK_NAME = 'safer-outbox-drain';
  var GIVE_UP_AFTER = 3;
  // Sent first and alone, by type: whatever priority a page gave them, they never share a batch
  // with a record that could make the server fail the batch.
  var URGENT_TYPES = { alarm_raised: true, session_finished: true };

  function isUrgent(record) {
    return !!(record && URGENT_TYPES.hasOwnProperty(record.type) && URGENT_TYPES[record.type]);
  }

  function chunk(records, size, urgent, setAside, into) {
    for (var i = 0; i < records.length; i += size) {
      into.push({ records: records.slice(i, i + size), urgent: urgent, setAside: setAside });
    }
  }

  /* The batches a drain sends, in order. `records` in the outbox's order (priority, then age);
   * only pending ones are planned. Pure: no storage, no network. */
  function planBatches(records, batchSize) {
    var size = batchSize > 0 ? batchSize : BATCH_SIZE;
    var urgent = [];
    var ordinary = [];
    var setAside = [];
    (records || []).forEach(function (record, index) {
      if (!record || record.status !== 'pending') { return; }
      if (record.failed_alone) { setAside.push({ record: record, index: index }); }
      else if (isUrgent(record)) { urgent.push(record); }
      else { ordinary.push(record); }
    });
    setAside.sort(function (a, b) {
      return (isUrgent(b.record) - isUrgent(a.record)) ||
        ((a.record.last_attempt_at || 0) - (b.record.last_attempt_at || 0)) || (a.index - b.index);
    });
    var asideUrgent = [];
    var asideOrdinary = [];
    setAside.forEach(function (entry) { (isUrgent(entry.record) ? asideUrgent : asideOrdinary).push(entry.record); });
    var plan = [];
    chunk(urgent, size, true, false, plan);
    chunk(ordinary, size, false, false, plan);
    chunk(asideUrgent, size, true, true, plan);
    chunk(asideOrdinary, size, false, true, plan);
    return plan;
  }

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

  /* Send one batch; resolve with {state, sent, rejected, failed, answered, message}:
   * - 'sent': the server answered per record (answered: true); every record is removed
   *   (created/duplicate), marked rejected, set aside (status "error"), or has its try noted;
   * - 'failed': the server failed the batch as a whole; NOTHING is marked (the caller decides:
   *   one record alone is set aside, more are sent again one by one);
   * - 'signed-out' (401) and 'offline' (no answer): every record has its try noted. */
  function sendBatch(batch, token) {
    var body = JSON.stringify({ sent_at: SaferOutbox.isoWithOffset(new Date()), records: batch.map(envelope) });
    return fetchWithTimeout('/api/v1/sync', {
      method: 'POST', credentials: 'same-origin', cache: 'no-store', redirect: 'manual',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRFToken': token },
      body: body
    }).then(function (response) {
      return readJson(response).then(function (payload) {
        if (response.status === 200 && payload && Array.isArray(payload.results)) {
          return applyResults(batch, payload.results);
        }
        var message = describeFailure(response, payload);
        if (response.status === 401) {
          return markAll(batch, message).then(function () {
            return { state: 'signed-out', sent: 0, rejected: 0, failed: 0, answered: false, message: message };
          });
        }
        return { state: 'failed', sent: 0, rejected: 0, failed: 0, answered: false, message: message };
      });
    }, function (error) {
      // The request may or may not have reached the server: the record stays, and sending it
      // again is safe because the server stores a record id once.
      var message = 'No answer from the server (' + error.message + ').';
      return markAll(batch, message).then(function () {
        return { state: 'offline', sent: 0, rejected: 0, failed: 0, answered: false, message: message };
      });
    });
  }

  function applyResults(batch, results) {
    var byId = {};
    results.forEach(function (result) { if (result && result.id) { byId[String(result.id)] = result; } });
    var outcome = { state: 'sent', sent: 0, rejected: 0, failed: 0, answered: true, message: null };
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
      if (result && result.status === 'error') {
        // The server could not store this one (its own fault, not the worker's): it stays
        // pending, to be tried again after the others, with the server's words.
        outcome.failed += 1;
        var words = result.message ? String(result.message) : 'The server could not store this record.';
        return SaferOutbox.markFailedAlone(record.id, words, result.reference ? String(result.reference) : null);
      }
      return SaferOutbox.markAttempt(record.id, 'The server did not answer for this record.');
    })).then(function () { return outcome; });
  }

  /* A batch the server failed as a whole: each record again, on its own. A record that fails
   * alone is set aside with the server's words; the others get through. */
  function sendOneByOne(batch, run, batchMessage) {
    var untried = batch.slice();
    function next() {
      if (!untried.length) { return Promise.resolve(); }
      if (run.stop) {
        return markAll(untried, batchMessage);
      }
      var record = untried.shift();
      if (run.givenUp && !isUrgent(record)) {
        return SaferOutbox.markAttempt(record.id, batchMessage).then(next);
      }
      return sendBatch([record], run.token).then(function (outcome) {
        return settle([record], outcome, run);
      }).then(next);
    }
    return next();
  }

  /* Count one answer into the drain, and set aside a single record the server failed. */
  function settle(batch, outcome, run) {
    run.summary.sent += outcome.sent;
    run.summary.rejected += outcome.rejected;
    run.failed += outcome.failed;
    if (outcome.answered) { run.failedInRow = 0; }
    if (outcome.state === 'offline' || outcome.state === 'signed-out') {
      run.stop = outcome.state;
      return Promise.resolve();
    }
    if (outcome.state !== 'failed') { return Promise.resolve(); }
    if (batch.length > 1) { return sendOneByOne(batch, run, outcome.message); }
    run.failed += 1;
    run.failedInRow += 1;
    if (run.failedInRow >= GIVE_UP_AFTER) { run.givenUp = true; }
    return SaferOutbox.markFailedAlone(batch[0].id, outcome.message, null);
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
        var plan = planBatches(records, BATCH_SIZE);
        var summary = { state: plan.length ? 'sent' : 'nothing', sent: 0, rejected: 0, user_id: userId };
        var run = { token: session.token, summary: summary, stop: null,
                    failed: 0, failedInRow: 0, givenUp: false, skipped: 0 };
        var index = 0;
        // Batches go one after another, in the planned order; only no connection or a 401
        // stops the rest.
        function next() {
          if (run.stop || index >= plan.length) { return Promise.resolve(); }
          var batch = plan[index];
          index += 1;
          if (run.givenUp && !batch.urgent) {
            run.skipped += batch.records.length;
            return next();
          }
          return sendBatch(batch.records, run.token).then(function (outcome) {
            return settle(batch.records, outcome, run);
          }).then(next);
        }
        return next().then(function () {
          if (run.stop) {
            summary.state = run.stop;
          } else if (run.failed || run.skipped) {
            summary.state = 'error';
            summary.message = 'The server could not store ' + (run.failed + run.skipped) +
              ' of the records; they stay on this phone and are tried again.';
          }
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

  root.SaferSync = {
    drain: drain, checkSession: checkSession, planBatches: planBatches, isUrgent: isUrgent,
    BATCH_SIZE: BATCH_SIZE, GIVE_UP_AFTER: GIVE_UP_AFTER, URGENT_TYPES: URGENT_TYPES
  };
}(typeof self !== 'undefined' ? self : this));
