/* SaferPosition: where the worker is, only when they allowed it, never waited for.
 *
 * A fix is asked in the background only if the worker already allowed location (no prompt), or
 * from a tap (starting a session). A fix older than 15 minutes is never sent. Kept per signed-in
 * user in localStorage, so the alarm page has the last fix the moment it opens.
 *
 * Contract: SaferPosition.fresh() -> {latitude, longitude, accuracy, at} | null,
 * .fill(form) (the form's latitude/longitude/location_accuracy_m fields), .refresh(),
 * .refreshIfAllowed(), .onChange(fn).
 */
(function (root) {
  'use strict';

  var MAX_AGE_MS = 15 * 60000;
  var TIMEOUT_MS = 8000;
  var PREFIX = 'safer-lw:';              // {position: {...}}, one key per signed-in user
  var page = root.SaferPage;
  var KEY = PREFIX + page.userId;
  var listeners = [];
  var position = null;

  try {
    for (var i = localStorage.length - 1; i >= 0; i -= 1) {
      var key = localStorage.key(i);
      if (key && key.indexOf(PREFIX) === 0 && key !== KEY) { localStorage.removeItem(key); }
    }
    position = (JSON.parse(localStorage.getItem(KEY) || '{}') || {}).position || null;
  } catch (error) { position = null; }

  function remember(fix) {
    position = { latitude: fix.coords.latitude, longitude: fix.coords.longitude,
                 accuracy: fix.coords.accuracy, at: Date.now() };
    try { localStorage.setItem(KEY, JSON.stringify({ position: position })); } catch (error) { /* kept in memory */ }
    listeners.forEach(function (fn) { fn(position); });
  }

  function refresh() {
    if (!navigator.geolocation) { return; }
    try {
      navigator.geolocation.getCurrentPosition(remember, function () { /* no fix: none is sent */ },
        { enableHighAccuracy: true, maximumAge: 60000, timeout: TIMEOUT_MS });
    } catch (error) { /* not available here */ }
  }

  function refreshIfAllowed() {
    if (!navigator.permissions || !navigator.geolocation) { return; }
    navigator.permissions.query({ name: 'geolocation' }).then(function (status) {
      if (status.state === 'granted') { refresh(); }
    }).catch(function () { /* unknown: ask only from a tap */ });
  }

  function fresh() {
    return position && Date.now() - position.at <= MAX_AGE_MS ? position : null;
  }

  function fill(form) {
    var fix = fresh();
    var fields = { latitude: '', longitude: '', location_accuracy_m: '' };
    if (fix) {
      fields.latitude = fix.latitude.toFixed(6);
      fields.longitude = fix.longitude.toFixed(6);
      fields.location_accuracy_m = String(Math.min(Math.round(fix.accuracy || 0), 100000));
    }
    Object.keys(fields).forEach(function (name) {
      var input = form.querySelector('input[name="' + name + '"]');
      if (input) { input.value = fields[name]; }
    });
  }

  if (!page.userId) { return; }
  root.SaferPosition = {
    fresh: fresh, fill: fill, refresh: refresh, refreshIfAllowed: refreshIfAllowed,
    onChange: function (fn) { listeners.push(fn); }
  };
}(window));
