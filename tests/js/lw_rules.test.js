/* Every case of tests/lone_working/rule_cases.json against the phone's rules (lw_rules.js, completed
 * by lw_words.js); tests/lone_working/test_rule_cases.py runs the same cases against the server's rules.py.
 *
 * Wall clocks are read in the zone the table names (Europe/London): test_node_units.py sets TZ;
 * run by hand, this file sets it before any date is made (Node reads TZ when it changes).
 */
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');

const ROOT = path.join(__dirname, '..', '..');
const TABLE = JSON.parse(fs.readFileSync(path.join(ROOT, 'tests', 'lone_working', 'rule_cases.json'), 'utf8'));
if (!process.env.TZ) { process.env.TZ = TABLE.zone; }

const RULES_PATH = path.join(ROOT, 'app', 'static', 'js', 'lw_rules.js');
const WORDS_PATH = path.join(ROOT, 'app', 'static', 'js', 'lw_words.js');
const SaferRules = require(WORDS_PATH);   // requires lw_rules.js itself: the complete SaferRules

function camel(name) { return name.replace(/_([a-z])/g, (_, letter) => letter.toUpperCase()); }

// An instant in the table (always with an offset) as epoch ms, read by Node, not by lw_rules.js.
function ms(text) {
  if (text === null) { return null; }
  assert.match(text, /(Z|[+-]\d{2}:\d{2})$/, `an instant in the table needs an offset: ${text}`);
  const value = Date.parse(text);
  assert.ok(!Number.isNaN(value), text);
  return value;
}

const CONVERT = {
  instant: ms,
  local: (text) => text,
  wall_time: (text) => text,
  seconds: (seconds) => seconds * 1000,
  kinds: (list) => list,
  text: (value) => value,
  number: (value) => value,
  value: (value) => value
};

// Where the phone's function is not called with the table's arguments in order.
const CALL = {
  urgency: (now, active, deadlineAt, graceMinutes, dueSoonMinutes, openAlertKinds) => SaferRules.urgency(
    now, { active, deadlineAt, graceMinutes, dueSoonMinutes, openAlertKinds })
};

function expected(returns, expect) {
  if (returns === 'instant') { return ms(expect); }
  if (returns === 'seconds') { return expect * 1000; }
  if (returns === 'late_check_in') {
    return expect === null ? null : { checkedInAt: ms(expect.checked_in_at), receivedAt: ms(expect.received_at),
                                      inTimeOnPhone: expect.in_time_on_phone };
  }
  return expect;
}

test('the phone reads wall clocks in the zone of the table', () => {
  assert.equal(Intl.DateTimeFormat().resolvedOptions().timeZone, TABLE.zone,
               `run with TZ=${TABLE.zone} (tests/js/test_node_units.py sets it)`);
});

for (const [name, spec] of Object.entries(TABLE.functions)) {
  for (const c of spec.cases) {
    test(`${name}: ${c.name}`, () => {
      const args = Object.entries(spec.args).map(([arg, kind]) => (c[arg] === null ? null : CONVERT[kind](c[arg])));
      const call = CALL[name] || SaferRules[camel(name)];
      assert.equal(typeof call, 'function', `SaferRules.${camel(name)} is missing`);
      assert.deepStrictEqual(call(...args), expected(spec.returns, c.expect));
    });
  }
}

test('the phone constants are the table\'s', () => {
  const phone = {};
  for (const key of Object.keys(TABLE.constants)) {
    phone[key] = key.endsWith('_SECONDS') ? SaferRules[key.replace(/_SECONDS$/, '_MS')] / 1000 : SaferRules[key];
  }
  assert.deepStrictEqual(phone, TABLE.constants);
});

test('every rule the phone exports has cases in the table', () => {
  const covered = new Set(Object.keys(TABLE.functions).map(camel));
  const untested = Object.keys(SaferRules).filter((key) => typeof SaferRules[key] === 'function' &&
                                                             key !== 'instant' && !covered.has(key));
  assert.deepStrictEqual(untested, []);
});

test('instants cross as epoch ms, ISO strings (with the server\'s microseconds) or Dates alike', () => {
  const at = Date.parse('2026-06-10T09:00:00Z');
  const due = at + 30 * 60000;
  assert.equal(SaferRules.nextCheckInDue(at, 30), due);
  assert.equal(SaferRules.nextCheckInDue('2026-06-10T10:00:00.000000+01:00', 30), due);
  assert.equal(SaferRules.nextCheckInDue(new Date(at), 30), due);
  assert.equal(SaferRules.instant('2026-06-10T09:00:00.123456+00:00'), at + 123);
  assert.equal(SaferRules.instant('2026-06-10T10:00'), at, 'no offset: the phone\'s wall clock (BST)');
  assert.equal(SaferRules.instant(''), null);
  assert.equal(SaferRules.instant('not a time'), null);
  assert.throws(() => SaferRules.nextCheckInDue('not a time', 30), TypeError);
});

test('loaded as a page loads them, lw_rules.js then lw_words.js, the scripts set one complete self.SaferRules', () => {
  const sandbox = {};
  sandbox.self = sandbox;
  vm.runInNewContext(fs.readFileSync(RULES_PATH, 'utf8'), sandbox, { filename: 'lw_rules.js' });
  const timeRules = sandbox.SaferRules;
  assert.equal(typeof timeRules.nextCheckInDue, 'function');
  vm.runInNewContext(fs.readFileSync(WORDS_PATH, 'utf8'), sandbox, { filename: 'lw_words.js' });
  assert.equal(sandbox.SaferRules, timeRules, 'lw_words.js adds to the same object the other scripts hold');
  assert.equal(typeof sandbox.SaferRules.checkStart, 'function');
  assert.equal(sandbox.SaferRules.formatDuration(3900000), '1 h 05 min');
  assert.deepStrictEqual(Object.keys(sandbox.SaferRules).sort(), Object.keys(SaferRules).sort());
});

test('lw_words.js on a page without lw_rules.js says what is missing', () => {
  const sandbox = {};
  sandbox.self = sandbox;
  assert.throws(() => vm.runInNewContext(fs.readFileSync(WORDS_PATH, 'utf8'), sandbox, { filename: 'lw_words.js' }),
                /needs lw_rules\.js loaded first/);
});

test('under Node, lw_words.js and lw_rules.js hand out the same complete SaferRules', () => {
  assert.equal(require(RULES_PATH), SaferRules);
  for (const name of ['nextCheckInDue', 'resolvePlannedEnd', 'formatDuration', 'formatCountdown', 'intervalLabel',
                      'checkStart']) {
    assert.equal(typeof SaferRules[name], 'function', name);
  }
});
