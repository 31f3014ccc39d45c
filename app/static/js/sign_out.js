/* Sign-out on a shared phone (pitfall 12): warn when this person's records still wait (they stay
 * and send when the same person signs in again), and forget the pages kept for them first.
 */
(function (root) {
  'use strict';

  var page = root.SaferPage;
  var form = page.$('#sign-out-form');
  if (!form) { return; }

  form.addEventListener('submit', function (event) {
    if (form.dataset.confirmed) { return; }
    event.preventDefault();
    var counting = page.hasOutbox ? SaferOutbox.count(page.userId) : Promise.resolve(0);
    counting.catch(function () { return 0; }).then(function (waiting) {
      if (waiting > 0) {
        var sentence = waiting === 1 ? '1 record is still waiting on this phone. It stays here and sends'
                                     : waiting + ' records are still waiting on this phone. They stay here and send';
        if (!root.confirm(sentence + ' the next time you sign in. Sign out anyway?')) { return; }
      }
      var clearing = root.SaferSW ? SaferSW.clearKeptPages() : Promise.resolve();
      return clearing.then(function () {
        form.dataset.confirmed = '1';
        HTMLFormElement.prototype.submit.call(form);
      });
    });
  });
}(window));
