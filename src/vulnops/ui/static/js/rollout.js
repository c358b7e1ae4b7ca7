// The rollout page, live: on every server-sent change, the server's own rendering of the status,
// the operations and the stages is swapped in (so the page has one rendering, the server's). The
// operations are only replaced when the set offered changes, so a reason being typed is kept.
(function () {
  "use strict";
  var root = document.getElementById("live");
  if (!root || !window.EventSource || !window.fetch) { return; }

  function swap(html) {
    var next = new DOMParser().parseFromString(html, "text/html");
    ["live-status", "live-stages"].forEach(function (id) {
      var old = document.getElementById(id), fresh = next.getElementById(id);
      if (old && fresh) { old.replaceWith(fresh); }
    });
    var ops = document.getElementById("live-operations"), freshOps = next.getElementById("live-operations");
    if (ops && freshOps && ops.dataset.operations !== freshOps.dataset.operations) {
      ops.replaceWith(freshOps);
    }
  }

  function state(text) {
    var live = document.getElementById("live-state");
    if (live) { live.textContent = text; }
  }

  var source = new EventSource(root.getAttribute("data-stream-url"));
  source.addEventListener("rollout", function (event) {
    var snapshot = JSON.parse(event.data);
    fetch(root.getAttribute("data-fragment-url"), { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
      .then(function (html) {
        swap(html);
        if (snapshot.finished_at) {
          source.close();  // the server ends the stream too; do not reconnect to a finished rollout
          state("finished");
        } else {
          state("updated " + new Date().toLocaleTimeString());
        }
      })
      .catch(function () { state("could not update; reload the page"); });
  });
  source.onerror = function () { state("reconnecting…"); };
})();
