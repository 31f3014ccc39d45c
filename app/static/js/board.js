/* The supervisor's board: refresh the live region every few seconds without a page reload.
 *
 * Only #board-live is replaced, and it holds no form fields, so nothing the supervisor is
 * typing elsewhere on the page is lost. A failed refresh keeps the last board on screen and
 * says plainly how old it is. If the session has expired (the server answered with the
 * sign-in page instead of the fragment), it says so instead of showing a stale board as fresh.
 */
(function () {
  'use strict';
  var region = document.getElementById('board-live');
  if (!region) { return; }
  var url = region.getAttribute('data-fragment-url');
  var seconds = parseInt(region.getAttribute('data-refresh-seconds'), 10) || 10;
  var meta = document.getElementById('board-meta');
  var updated = document.getElementById('board-updated');
  var lastGood = new Date();
  var baseTitle = document.title;

  function pad(n) { return (n < 10 ? '0' : '') + n; }
  function clock(date) { return pad(date.getHours()) + ':' + pad(date.getMinutes()) + ':' + pad(date.getSeconds()); }

  function markAlarms() {
    var alarms = region.querySelectorAll('#alarm-takeover [data-alert-id]').length;
    document.title = alarms ? '(' + alarms + ') ALARM · ' + baseTitle : baseTitle;
  }

  function showProblem(text) {
    if (meta) { meta.setAttribute('data-state', 'stale'); }
    if (updated) { updated.textContent = text + ' Last updated ' + clock(lastGood) + '.'; }
  }

  function refresh() {
    fetch(url, { credentials: 'same-origin', headers: { 'Accept': 'text/html' }, cache: 'no-store' })
      .then(function (response) {
        if (response.headers.get('X-Board-Fragment') !== '1') {
          showProblem('You are signed out: sign in again to see the live board.');
          return null;
        }
        if (!response.ok) { throw new Error('HTTP ' + response.status); }
        return response.text();
      })
      .then(function (html) {
        if (html === null || html === undefined) { return; }
        region.innerHTML = html;
        lastGood = new Date();
        if (meta) { meta.setAttribute('data-state', 'fresh'); }
        if (updated) { updated.textContent = 'Updated ' + clock(lastGood); }
        markAlarms();
      })
      .catch(function () { showProblem('Could not reach the server.'); });
  }

  markAlarms();
  setInterval(refresh, seconds * 1000);
  document.addEventListener('visibilitychange', function () { if (!document.hidden) { refresh(); } });
}());
