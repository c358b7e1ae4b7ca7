// The CVSS calculator of the severity form: choosing each base metric writes the vector, typing
// a vector sets the choices, and the score comes from the server (the same library that scores
// the vector when the form is saved). Only the base metrics are chosen here; a vector typed with
// more keeps them until a choice is changed.
(function () {
  "use strict";

  function calculator(set) {
    var version = set.getAttribute("data-cvss");
    var input = set.querySelector("input[data-vector]");
    var output = set.querySelector("output");
    var metrics = Array.prototype.map.call(set.querySelectorAll("[data-metric]"), function (el) {
      return el.getAttribute("data-metric");
    });
    var prefix = "cvss" + version.replace(".", "") + "-";
    var pending = null;

    function radio(key, value) {
      return set.querySelector("input[name='" + prefix + key + "'][value='" + value + "']");
    }

    function show(text, bad) {
      output.textContent = text;
      output.classList.toggle("bad", Boolean(bad));
    }

    function score() {
      var vector = input.value.trim();
      if (!vector) { show(""); return; }
      window.clearTimeout(pending);
      pending = window.setTimeout(function () {
        fetch("/api/cases/cvss?vector=" + encodeURIComponent(vector), {
          credentials: "same-origin", headers: { Accept: "application/json" }
        }).then(function (response) {
          return response.json().then(function (body) {
            if (response.ok) { show("Base score " + body.base_score + " (" + body.severity + ")"); }
            else { show(body.detail || "not a valid vector", true); }
          });
        }).catch(function () { show("the score could not be fetched", true); });
      }, 200);
    }

    function build() {
      var parts = [];
      metrics.forEach(function (key) {
        var chosen = set.querySelector("input[name='" + prefix + key + "']:checked");
        if (chosen) { parts.push(key + ":" + chosen.value); }
      });
      if (parts.length < metrics.length) {
        show("choose every metric: " + parts.length + " of " + metrics.length + " chosen");
        return;
      }
      input.value = "CVSS:" + version + "/" + parts.join("/");
      score();
    }

    function follow() {
      Array.prototype.forEach.call(set.querySelectorAll("input[type=radio]"), function (r) {
        r.checked = false;
      });
      input.value.trim().replace(/^CVSS:[0-9.]+\//, "").split("/").forEach(function (part) {
        var pair = part.split(":");
        var found = pair.length === 2 ? radio(pair[0], pair[1]) : null;
        if (found) { found.checked = true; }
      });
      score();
    }

    set.addEventListener("change", function (event) {
      if (event.target.type === "radio") { build(); }
    });
    input.addEventListener("input", follow);
    if (input.value.trim()) { follow(); }
  }

  Array.prototype.forEach.call(document.querySelectorAll("fieldset[data-cvss]"), calculator);
})();
