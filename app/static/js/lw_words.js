/* The lone-working words and the start form's checks on the phone: the durations and labels the
 * pages show, and app/lone_working/schemas.py (SessionStartedV1) with the same words. Pure
 * functions, like the time rules in lw_rules.js, whose SaferRules this file completes.
 *
 * tests/js/lw_rules.test.js runs every case of tests/lone_working/rule_cases.json against the
 * complete SaferRules, as tests/lone_working/test_rule_cases.py does against the server.
 *
 * In a page: loaded after lw_rules.js; adds to self.SaferRules. Under Node: require of this file
 * requires ./lw_rules.js itself and returns the complete SaferRules (module.exports).
 * Adds to SaferRules:
 *   URGENCY_LABELS, PLACE_KINDS
 *   formatDuration(ms) -> '40 s' | '12 min' | '1 h 05 min' | '2 d 3 h 00 min'   (the board)
 *   formatCountdown(ms) -> '40 s' | '4 min 05 s' | '1 h 05 min'                (the phone's countdown)
 *   intervalLabel(minutes) -> 'Every 30 minutes' | 'Every hour' | 'Every 1 h 30 min' | ''
 *   checkStart(fields) -> {field: [messages]}   ({} when the server would accept the start form)
 *
 * Where the server reads more than this file does (underscores or non-ASCII digits in numbers,
 * and the times lw_rules.js refuses), the phone refuses: it may be stricter than the server,
 * never more lenient, so a worker is never told a session runs that the server refuses.
 */
(function (root) {
  'use strict';

  var Rules = root.SaferRules || (typeof require === 'function' ? require('./lw_rules.js') : null);
  if (!Rules) { throw new Error('lw_words.js needs lw_rules.js loaded first'); }
  var pyStrip = Rules.readers.pyStrip;
  var codePoints = Rules.readers.codePoints;
  var parseIsoDateTime = Rules.readers.parseIsoDateTime;
  var parseWallTime = Rules.readers.parseWallTime;
  var MIN_INTERVAL_MINUTES = Rules.MIN_INTERVAL_MINUTES;
  var MAX_INTERVAL_MINUTES = Rules.MAX_INTERVAL_MINUTES;
  var MIN_DURATION_MINUTES = Rules.MIN_DURATION_MINUTES;
  var MAX_DURATION_MINUTES = Rules.MAX_DURATION_MINUTES;
  var MAX_ID = Rules.MAX_ID;

  var URGENCY_LABELS = { alarm: 'Alarm', overdue: 'Overdue', due_soon: 'Due soon', fine: 'Fine', finished: 'Finished' };
  var PLACE_KINDS = { branch: 'Branch', mobile_stop: 'Mobile library route or stop', home_visit: 'Home visit',
                      other: 'Somewhere else' };
  var PLAUSIBLE_YEARS = [1970, 2100];           // a planned end's year: first <= year < last
  var NEEDS_PLACE = { mobile_stop: true, home_visit: true, other: true };

  // The server's words (schemas.py); kept identical, the case table compares them.
  var WORDS = {
    kind: 'Choose the kind of place.',
    branchInvalid: 'Choose a branch from the list.',
    branchMissing: 'Choose the branch.',
    placeMissing: 'Say where: the route or stop, the address, or a short description.',
    endMissing: 'Say when you expect to finish.',
    endInvalid: 'Give the planned end as a time (HH:MM) or a date and time.',
    endYear: "Give a planned end between 1970 and 2100; check the phone's clock.",
    duration: 'Give between 5 minutes and 7 days.',
    interval: 'Check in every 5 minutes to 24 hours (1440 minutes).',
    notNull: 'Field may not be null.',
    notString: 'Not a valid string.',
    notInteger: 'Not a valid integer.'
  };

  function has(object, key) { return Object.prototype.hasOwnProperty.call(object, key); }

  function pad(n) { return (n < 10 ? '0' : '') + n; }

  /* ---------- words ---------- */

  function wholeSeconds(ms) { return Math.floor(Math.abs(ms) / 1000); }

  /* "1 h 05 min", "12 min", "40 s": for the board. */
  function formatDuration(ms) {
    var seconds = wholeSeconds(ms);
    if (seconds < 60) { return seconds + ' s'; }
    var minutes = Math.floor(seconds / 60);
    if (minutes < 60) { return minutes + ' min'; }
    var days = Math.floor(minutes / (24 * 60));
    var text = Math.floor(minutes / 60) % 24 + ' h ' + pad(minutes % 60) + ' min';
    return days ? days + ' d ' + text : text;
  }

  /* "1 h 05 min", "4 min 05 s", "40 s": a countdown that still reads well at a glance. */
  function formatCountdown(ms) {
    var seconds = wholeSeconds(ms);
    if (seconds >= 60 && seconds < 3600) { return Math.floor(seconds / 60) + ' min ' + pad(seconds % 60) + ' s'; }
    return formatDuration(ms);
  }

  function intervalLabel(minutes) {
    minutes = +minutes;
    if (!minutes) { return ''; }
    if (minutes < 60) { return 'Every ' + minutes + ' minutes'; }
    if (minutes % 60 === 0) { return minutes === 60 ? 'Every hour' : 'Every ' + (minutes / 60) + ' hours'; }
    return 'Every ' + Math.floor(minutes / 60) + ' h ' + (minutes % 60) + ' min';
  }

  /* ---------- the start form (schemas.SessionStartedV1) ---------- */

  /* A whole number as marshmallow's Integer reads it; undefined if it is not one. */
  function integerOf(value) {
    if (typeof value === 'number') {   // int(3.7) is 3, as marshmallow reads it
      return isFinite(value) ? (value < 0 ? Math.ceil(value) : Math.floor(value)) : undefined;
    }
    if (typeof value !== 'string') { return undefined; }
    var text = pyStrip(value);
    return /^[+-]?[0-9]+$/.test(text) ? parseInt(text, 10) : undefined;
  }

  /* The planned end's own check (schemas.PlannedEnd); a message, or null if it is readable. */
  function plannedEndProblem(text) {
    if (codePoints(text) <= 8 && text.indexOf(':') >= 0 && text.indexOf('T') < 0) {
      return parseWallTime(text) ? null : WORDS.endInvalid;
    }
    var parts = parseIsoDateTime(text);
    if (!parts) { return WORDS.endInvalid; }
    return parts.year >= PLAUSIBLE_YEARS[0] && parts.year < PLAUSIBLE_YEARS[1] ? null : WORDS.endYear;
  }

  /* The start form's answers (as the form gives them: strings; an empty answer is no answer) ->
   * {field: [messages]}, as the server would answer them; {} when it would accept them.
   * As on the server, "choose the branch", "say where" and "say when" are checked only once
   * every answer is readable. Checks the fields the worker fills in; other keys are ignored. */
  function checkStart(fields) {
    var data = {};
    Object.keys(fields || {}).forEach(function (key) { if (fields[key] !== '') { data[key] = fields[key]; } });
    var errors = {};
    var values = {};
    function fail(name, message) { errors[name] = [message]; }

    function string(name, required, nullable) {
      if (!has(data, name) || (nullable && data[name] === null)) {
        if (required) { fail(name, WORDS.kind); }
        return undefined;
      }
      if (data[name] === null) { fail(name, WORDS.notNull); return undefined; }
      if (typeof data[name] !== 'string') { fail(name, WORDS.notString); return undefined; }
      return data[name];
    }

    function integer(name, min, max, invalid, outOfRange) {
      if (!has(data, name) || data[name] === null) { return null; }
      var number = integerOf(data[name]);
      if (number === undefined) { fail(name, invalid); return null; }
      if (number < min || number > max) { fail(name, outOfRange); return null; }
      return number;
    }

    function trimmed(name, maxLength) {
      var text = string(name, false, false);
      if (text === undefined) { return ''; }
      text = pyStrip(text);
      if (codePoints(text) > maxLength) { fail(name, 'Longer than maximum length ' + maxLength + '.'); }
      return text;
    }

    var kind = string('place_kind', true, false);
    if (kind !== undefined && !has(PLACE_KINDS, kind)) { fail('place_kind', WORDS.kind); }
    values.branch_id = integer('branch_id', 1, MAX_ID, WORDS.branchInvalid, WORDS.branchInvalid);
    values.place = trimmed('place', 300);
    var end = string('planned_end_at', false, true);
    if (end !== undefined) {
      var problem = plannedEndProblem(pyStrip(end));
      if (problem) { fail('planned_end_at', problem); }
    }
    values.duration_minutes = integer('duration_minutes', MIN_DURATION_MINUTES, MAX_DURATION_MINUTES,
                                      WORDS.notInteger, WORDS.duration);
    integer('check_in_interval_minutes', MIN_INTERVAL_MINUTES, MAX_INTERVAL_MINUTES, WORDS.notInteger, WORDS.interval);
    trimmed('note', 1000);
    if (Object.keys(errors).length) { return errors; }

    if (kind === 'branch' && !values.branch_id) {
      fail('branch_id', WORDS.branchMissing);
    } else if (has(NEEDS_PLACE, kind) && !values.place) {
      fail('place', WORDS.placeMissing);
    }
    if (end === undefined && values.duration_minutes === null) { fail('planned_end_at', WORDS.endMissing); }
    return errors;
  }

  Rules.URGENCY_LABELS = URGENCY_LABELS;
  Rules.PLACE_KINDS = PLACE_KINDS;
  Rules.formatDuration = formatDuration;
  Rules.formatCountdown = formatCountdown;
  Rules.intervalLabel = intervalLabel;
  Rules.checkStart = checkStart;

  root.SaferRules = Rules;
  if (typeof module !== 'undefined' && module.exports) { module.exports = Rules; }
}(typeof self !== 'undefined' ? self : this));
