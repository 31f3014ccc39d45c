/* The lone-working time rules on the phone: app/lone_working/rules.py, one function for one
 * function. Pure functions: no page, no storage, no clock (`now` is always given). The words and
 * the start form's checks (schemas.py) are in lw_words.js, which adds them to the same SaferRules.
 *
 * Both sides run every case of tests/lone_working/rule_cases.json (pytest against rules.py and
 * the schema, node --test against this file and lw_words.js), so a rule changed on one side only
 * fails a test. Change a rule on both sides and in that table together.
 *
 * Times: an instant is epoch milliseconds; every function also takes an ISO string (with an
 * offset, or without one = the phone's wall clock) or a Date. Instants come back as epoch ms.
 * Durations are milliseconds. Wall-clock times are read in the browser's own time zone (the
 * server reads them in the service's zone, Europe/London): across a clock change, "03:00" is
 * the next time the phone's clock shows 03:00, and interval arithmetic is in real minutes.
 *
 * Exported as self.SaferRules (window.SaferRules in a page; module.exports under Node):
 *   MIN_INTERVAL_MINUTES, MAX_INTERVAL_MINUTES, MIN_DURATION_MINUTES, MAX_DURATION_MINUTES,
 *   URGENCY_RANK, BACKOFF_FIRST_MS, BACKOFF_MAX_MS, MAX_ID   (the labels are in lw_words.js)
 *   instant(value) -> ms | null                         an ISO string, Date or ms as ms (null if not a time)
 *   wallClockToInstant(isoText) -> ms | null            wall_clock_to_instant
 *   nextOccurrenceOf('HH:MM', after) -> ms | null       next_occurrence_of ("HH:MM" already past = tomorrow)
 *   resolvePlannedEnd(value, startedAt) -> ms | null    resolve_planned_end (null: not a time the server reads)
 *   effectiveTime(recordedAt, receivedAt, skewSeconds, skewLimitSeconds) -> ms
 *   nextCheckInDue(anchor, intervalMinutes) -> ms
 *   deadline(nextDue, plannedEnd) -> ms | null
 *   deadlineKind(nextDue, plannedEnd) -> 'check_in' | 'end' | null
 *   overdueTime(deadlineAt, graceMinutes) -> ms
 *   isOverdue(now, deadlineAt, graceMinutes) -> bool
 *   extendedEnd(currentEnd, actedAt, minutes) -> ms
 *   urgency(now, {active, deadlineAt, graceMinutes, dueSoonMinutes, openAlertKinds: [...]})
 *       -> 'alarm' | 'overdue' | 'due_soon' | 'fine' | 'finished'
 *   isStaleContact(now, lastContactReceivedAt, staleMinutes) -> bool
 *   lateCheckIn(checkInAt, checkInReceivedAt, alertCauseAt, alertRaisedAt)
 *       -> null | {checkedInAt, receivedAt, inTimeOnPhone}
 *   nextEscalationTime(firedAt, nextLevelDelayMinutes) -> ms | null
 *   retryDelay(attempts) -> ms
 *   readers: {pyStrip, codePoints, parseIsoDateTime, parseWallTime}   for lw_words.js (not rules)
 *
 * Where the server reads more than this file does (ISO basic format "20260701T1730", "HH:MMZ"),
 * the phone refuses: it may be stricter than the server, never more lenient, so a worker is never
 * told a session runs that the server refuses.
 */
(function (root) {
  'use strict';

  var MINUTE_MS = 60000;
  var MIN_INTERVAL_MINUTES = 5;
  var MAX_INTERVAL_MINUTES = 24 * 60;
  var MIN_DURATION_MINUTES = 5;
  var MAX_DURATION_MINUTES = 7 * 24 * 60;
  var MAX_ID = 2147483647;                      // ids are 32-bit integers in the database
  var BACKOFF_FIRST_MS = 30000;
  var BACKOFF_MAX_MS = 15 * MINUTE_MS;

  var URGENCY_RANK = { alarm: 0, overdue: 1, due_soon: 2, fine: 3, finished: 4 };

  /* Python's str.strip(): exactly the characters str.isspace() calls space (JS's trim() differs). */
  var PY_SPACE = '\\t\\n\\u000b\\f\\r\\u001c-\\u001f \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
  var PY_STRIP = new RegExp('^[' + PY_SPACE + ']+|[' + PY_SPACE + ']+$', 'g');
  function pyStrip(text) { return String(text).replace(PY_STRIP, ''); }

  /* Python's len(): code points, not UTF-16 units (a surrogate pair is one). */
  function codePoints(text) { return text.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, '_').length; }

  /* ---------- reading times ---------- */

  function daysInMonth(year, month) {
    return [31, (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28, 31, 30, 31, 30,
            31, 31, 30, 31, 30, 31][month - 1];
  }

  function utcMs(y, mo, d, h, mi, s, ms) {
    var date = new Date(0);
    date.setUTCFullYear(y, mo - 1, d);
    date.setUTCHours(h, mi, s, ms);
    return date.getTime();
  }

  /* The phone's wall clock as an instant. A time skipped when the clocks go forward is read with
   * the offset before the change, a repeated one as the first: the same as the server's fold=0. */
  function localMs(y, mo, d, h, mi, s, ms) {
    if (y >= 100) { return new Date(y, mo - 1, d, h, mi, s, ms).getTime(); }
    var date = new Date(2000, 0, 1);
    date.setFullYear(y, mo - 1, d);
    date.setHours(h, mi, s, ms);
    return date.getTime();
  }

  // What datetime.fromisoformat reads, in its extended form: a date, optionally a time, optionally an offset.
  var ISO_DATE_TIME = new RegExp('^(\\d{4})-(\\d{2})-(\\d{2})' +
    '(?:[T ](\\d{2}):(\\d{2})(?::(\\d{2})(?:[.,](\\d{1,6}))?)?(Z|[+-]\\d{2}(?::?\\d{2})?)?)?$');

  /* An ISO date-time as its parts ({year, month, ..., offsetMinutes or null}); null if not one. */
  function parseIsoDateTime(text) {
    var m = ISO_DATE_TIME.exec(text);
    if (!m) { return null; }
    var p = { year: +m[1], month: +m[2], day: +m[3], hour: +(m[4] || 0), minute: +(m[5] || 0),
              second: +(m[6] || 0), ms: m[7] ? Math.floor(+(m[7] + '00000').slice(0, 6) / 1000) : 0,
              offsetMinutes: null };
    if (p.year < 1 || p.month < 1 || p.month > 12 || p.day < 1 || p.day > daysInMonth(p.year, p.month) ||
        p.hour > 23 || p.minute > 59 || p.second > 59) { return null; }
    if (m[8]) {
      if (m[8] === 'Z') {
        p.offsetMinutes = 0;
      } else {
        var digits = m[8].slice(1).replace(':', '');
        var hours = +digits.slice(0, 2);
        var minutes = +(digits.slice(2, 4) || 0);
        if (hours > 23 || minutes > 59) { return null; }
        p.offsetMinutes = (m[8].charAt(0) === '-' ? -1 : 1) * (hours * 60 + minutes);
      }
    }
    return p;
  }

  function instantOfParts(p) {
    if (p.offsetMinutes === null) { return localMs(p.year, p.month, p.day, p.hour, p.minute, p.second, p.ms); }
    return utcMs(p.year, p.month, p.day, p.hour, p.minute, p.second, p.ms) - p.offsetMinutes * MINUTE_MS;
  }

  /* "HH:MM" or "HH:MM:SS" as [hours, minutes, seconds]; null if not a time of day. */
  function parseWallTime(text) {
    var m = /^(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(text);
    if (!m || +m[1] > 23 || +m[2] > 59 || +(m[3] || 0) > 59) { return null; }
    return [+m[1], +m[2], +(m[3] || 0)];
  }

  /* Python keeps microseconds (isoformat may print 6 digits); this reads them too. */
  function instant(value) {
    if (value === null || value === undefined || value === '') { return null; }
    if (typeof value === 'number') { return isFinite(value) ? value : null; }
    if (value instanceof Date || Object.prototype.toString.call(value) === '[object Date]') {
      var time = value.getTime();
      return isNaN(time) ? null : time;
    }
    var parts = parseIsoDateTime(pyStrip(value));
    return parts ? instantOfParts(parts) : null;
  }

  /* An instant a rule cannot do without: a wrong one is a programming error, not a worker's. */
  function need(value, name) {
    var ms = instant(value);
    if (ms === null) { throw new TypeError(name + ' is not a time: ' + value); }
    return ms;
  }

  function optional(value, name) {
    return value === null || value === undefined ? null : need(value, name);
  }

  /* ---------- the rules (rules.py) ---------- */

  function wallClockToInstant(text) {
    var parts = typeof text === 'string' ? parseIsoDateTime(pyStrip(text)) : null;
    return parts ? instantOfParts(parts) : null;
  }

  /* The first instant after `after` at which the phone's clock shows the time. "Finish at 01:00"
   * said at 22:00 means 01:00 tomorrow; days are counted on the calendar, not as 24 hours. */
  function nextOccurrenceOf(wallTime, after) {
    var hms = typeof wallTime === 'string' ? parseWallTime(pyStrip(wallTime)) : null;
    if (!hms) { return null; }
    var from = need(after, 'after');
    var day = new Date(from);
    for (var days = 0; days < 3; days += 1) {
      var y = day.getFullYear(), mo = day.getMonth() + 1, d = day.getDate() + days;
      var candidate = localMs(y, mo, d, hms[0], hms[1], hms[2], 0);
      if (candidate > from) { return candidate; }
      var repeated = repeatedShowing(candidate, utcMs(y, mo, d, hms[0], hms[1], hms[2], 0));
      if (repeated !== null && repeated > from) { return repeated; }
    }
    return null;   // unreachable: a wall time recurs every day
  }

  /* When the clocks go back an hour is shown twice: the second instant at which the clock shows
   * the wall time `wallAsUtc` (that time's fields read as UTC) shown first at `first`; null if it
   * is shown once. Any zone: the offsets a day either side are tried. */
  function repeatedShowing(first, wallAsUtc) {
    var offsets = [new Date(first - 86400000).getTimezoneOffset(), new Date(first + 86400000).getTimezoneOffset()];
    for (var i = 0; i < offsets.length; i += 1) {
      var at = wallAsUtc + offsets[i] * MINUTE_MS;   // getTimezoneOffset is UTC minus local
      if (at > first && new Date(at).getTimezoneOffset() === offsets[i]) { return at; }
    }
    return null;
  }

  /* A planned end as the form gave it: an ISO date-time (with offset, or the phone's wall clock)
   * or "HH:MM" (the next time the clock shows it after the start). null: not one of those. */
  function resolvePlannedEnd(value, startedAt) {
    if (typeof value !== 'string') { return null; }
    var text = pyStrip(value);
    if (codePoints(text) <= 8 && text.indexOf(':') >= 0 && text.indexOf('T') < 0) {
      return nextOccurrenceOf(text, startedAt);
    }
    return wallClockToInstant(text);
  }

  /* When the server believes a worker acted: the phone's time, corrected by the measured skew
   * when the phone's clock is known to be wrong, never later than the server heard it. */
  function effectiveTime(recordedAt, receivedAt, skewSeconds, skewLimitSeconds) {
    var moment = need(recordedAt, 'recordedAt');
    if (skewSeconds !== null && skewSeconds !== undefined && Math.abs(skewSeconds) > skewLimitSeconds) {
      moment += skewSeconds * 1000;
    }
    return Math.min(moment, need(receivedAt, 'receivedAt'));
  }

  function nextCheckInDue(anchor, intervalMinutes) {
    return need(anchor, 'anchor') + intervalMinutes * MINUTE_MS;
  }

  function deadline(nextDue, plannedEnd) {
    var due = optional(nextDue, 'nextDue');
    var end = optional(plannedEnd, 'plannedEnd');
    if (due === null) { return end; }
    return end === null ? due : Math.min(due, end);
  }

  function deadlineKind(nextDue, plannedEnd) {
    var due = optional(nextDue, 'nextDue');
    var end = optional(plannedEnd, 'plannedEnd');
    if (end !== null && (due === null || end < due)) { return 'end'; }
    return due !== null ? 'check_in' : null;
  }

  function overdueTime(deadlineAt, graceMinutes) {
    return need(deadlineAt, 'deadlineAt') + graceMinutes * MINUTE_MS;
  }

  function isOverdue(now, deadlineAt, graceMinutes) {
    if (deadlineAt === null || deadlineAt === undefined) { return false; }
    return need(now, 'now') >= overdueTime(deadlineAt, graceMinutes);
  }

  /* Extending adds time to the planned end, or to the moment of extending if that is later. */
  function extendedEnd(currentEnd, actedAt, minutes) {
    var end = optional(currentEnd, 'currentEnd');
    var acted = need(actedAt, 'actedAt');
    return (end === null ? acted : Math.max(end, acted)) + minutes * MINUTE_MS;
  }

  /* An open alarm or duress alert outranks everything; an open overdue alert keeps a session
   * overdue even after a late check-in, until a person closes it. */
  function urgency(now, options) {
    var kinds = {};
    (options.openAlertKinds || []).forEach(function (kind) { kinds[kind] = true; });
    if (kinds.alarm || kinds.duress) { return 'alarm'; }
    if (kinds.overdue) { return 'overdue'; }
    if (!options.active) { return 'finished'; }
    var at = need(now, 'now');
    var deadlineAt = optional(options.deadlineAt, 'deadlineAt');
    if (isOverdue(at, deadlineAt, options.graceMinutes)) { return 'overdue'; }
    if (deadlineAt !== null && at >= deadlineAt - options.dueSoonMinutes * MINUTE_MS) { return 'due_soon'; }
    return 'fine';
  }

  function isStaleContact(now, lastContactReceivedAt, staleMinutes) {
    var last = optional(lastContactReceivedAt, 'lastContactReceivedAt');
    return last === null || need(now, 'now') - last > staleMinutes * MINUTE_MS;
  }

  /* A check-in that reached the server after an overdue alert was raised; null if none. */
  function lateCheckIn(checkInAt, checkInReceivedAt, alertCauseAt, alertRaisedAt) {
    var checkedIn = optional(checkInAt, 'checkInAt');
    var received = optional(checkInReceivedAt, 'checkInReceivedAt');
    if (checkedIn === null || received === null || received <= need(alertRaisedAt, 'alertRaisedAt')) { return null; }
    return { checkedInAt: checkedIn, receivedAt: received, inTimeOnPhone: checkedIn <= need(alertCauseAt, 'alertCauseAt') };
  }

  function nextEscalationTime(firedAt, nextLevelDelayMinutes) {
    if (nextLevelDelayMinutes === null || nextLevelDelayMinutes === undefined) { return null; }
    return need(firedAt, 'firedAt') + nextLevelDelayMinutes * MINUTE_MS;
  }

  /* 30 s, 1, 2, 4, 8 min... never more than 15 minutes apart. */
  function retryDelay(attempts) {
    var doublings = Math.min(Math.max(attempts - 1, 0), 16);
    return Math.min(BACKOFF_FIRST_MS * Math.pow(2, doublings), BACKOFF_MAX_MS);
  }

  var SaferRules = {
    MIN_INTERVAL_MINUTES: MIN_INTERVAL_MINUTES, MAX_INTERVAL_MINUTES: MAX_INTERVAL_MINUTES,
    MIN_DURATION_MINUTES: MIN_DURATION_MINUTES, MAX_DURATION_MINUTES: MAX_DURATION_MINUTES,
    URGENCY_RANK: URGENCY_RANK, BACKOFF_FIRST_MS: BACKOFF_FIRST_MS, BACKOFF_MAX_MS: BACKOFF_MAX_MS, MAX_ID: MAX_ID,
    instant: instant, wallClockToInstant: wallClockToInstant, nextOccurrenceOf: nextOccurrenceOf,
    resolvePlannedEnd: resolvePlannedEnd, effectiveTime: effectiveTime, nextCheckInDue: nextCheckInDue,
    deadline: deadline, deadlineKind: deadlineKind, overdueTime: overdueTime, isOverdue: isOverdue,
    extendedEnd: extendedEnd, urgency: urgency, isStaleContact: isStaleContact, lateCheckIn: lateCheckIn,
    nextEscalationTime: nextEscalationTime, retryDelay: retryDelay,
    readers: { pyStrip: pyStrip, codePoints: codePoints, parseIsoDateTime: parseIsoDateTime,
               parseWallTime: parseWallTime }
  };

  root.SaferRules = SaferRules;
  if (typeof module !== 'undefined' && module.exports) { module.exports = SaferRules; }
}(typeof self !== 'undefined' ? self : this));
