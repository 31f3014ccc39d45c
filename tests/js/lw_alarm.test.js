/* lw_alarm.js: the press-and-hold arithmetic and the sms: link (the same link the server builds). */
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const Alarm = require('../../app/static/js/lw_alarm.js');

test('a hold sends only once the whole hold time has passed', () => {
  assert.deepEqual(Alarm.holdProgress(1000, 1000, 3000), { progress: 0, secondsLeft: 3, done: false });
  assert.deepEqual(Alarm.holdProgress(1000, 2500, 3000), { progress: 0.5, secondsLeft: 2, done: false });
  assert.equal(Alarm.holdProgress(1000, 3999, 3000).done, false);
  assert.equal(Alarm.holdProgress(1000, 3999, 3000).secondsLeft, 1);
  assert.deepEqual(Alarm.holdProgress(1000, 4000, 3000), { progress: 1, secondsLeft: 0, done: true });
  assert.deepEqual(Alarm.holdProgress(1000, 9000, 3000), { progress: 1, secondsLeft: 0, done: true });
});

test('a clock that steps back during a hold never counts as progress', () => {
  assert.deepEqual(Alarm.holdProgress(5000, 4000, 3000), { progress: 0, secondsLeft: 3, done: false });
});

test('the sms link is encoded as Python quote() encodes it', () => {
  const text = "HELP: Wendy Worker needs help. At: Central Library · 12 Elm Road. Location: 52.62872,1.29346 (Safer Libraries)";
  assert.equal(Alarm.smsHref('+447700900123', text),
    'sms:+447700900123?body=HELP%3A%20Wendy%20Worker%20needs%20help.%20At%3A%20Central%20Library%20%C2%B7%2012%20Elm%20Road.' +
    '%20Location%3A%2052.62872%2C1.29346%20%28Safer%20Libraries%29');
  assert.equal(Alarm.smsHref('999', "a/b!'*"), 'sms:999?body=a/b%21%27%2A');
});
