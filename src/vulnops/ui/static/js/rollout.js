// The rollout page, live: redraws the stages and units from the server-sent snapshots.
// Everything shown is set as text (never as HTML), so nothing in a snapshot can run as script.
(function () {
  "use strict";
  var root = document.getElementById("stages");
  var live = document.getElementById("live-state");
  if (!root || !window.EventSource) { return; }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function percent(value) { return (value * 100).toFixed(1) + "%"; }

  function statLine(evidence) {
    if (!evidence) { return null; }
    var parts = [];
    // Without control units (a last stage) nothing was compared: the ratio is only the prior.
    var compared = (evidence.errors_updated || 0) + (evidence.errors_control || 0) > 0;
    if (compared && evidence.error_ratio_95) {
      parts.push("error ratio " + evidence.error_ratio.toFixed(2) + " (95%: " +
        evidence.error_ratio_95[0].toFixed(2) + "–" + evidence.error_ratio_95[1].toFixed(2) + ")");
    }
    if (evidence.latency_change !== null && evidence.latency_change !== undefined) {
      parts.push("latency " + (evidence.latency_change >= 0 ? "+" : "") + percent(evidence.latency_change) +
        " (95%: " + percent(evidence.latency_change_95[0]) + " to " + percent(evidence.latency_change_95[1]) + ")");
    }
    parts.push(Math.round(evidence.requests_updated).toLocaleString() + " requests on the fix");
    parts.push(evidence.intervals + " intervals");
    if (compared) {
      parts.push("e-values: fail " + evidence.errors_fail_e.toPrecision(3) + " / pass " +
        evidence.errors_pass_e.toPrecision(3));
    }
    return el("p", "small stats", parts.join(" · "));
  }

  function stageCard(stage) {
    var card = el("section", "card stage stage-" + stage.status);
    var title = el("h2", null, "Stage " + stage.index + " · " + stage.kind + " ");
    title.appendChild(el("span", "badge stage-badge-" + stage.status, stage.status));
    card.appendChild(title);
    card.appendChild(el("p", "small muted", stage.regions.join(", ") + " · " + percent(stage.traffic) +
      " of traffic · " + stage.units.length + " units"));
    if (stage.verdict) {
      var verdict = el("p", "small");
      verdict.appendChild(el("strong", null, stage.verdict));
      verdict.appendChild(document.createTextNode(" — " + stage.verdict_reason));
      card.appendChild(verdict);
    }
    var stats = statLine(stage.evidence);
    if (stats) { card.appendChild(stats); }
    var grid = el("div", "unit-grid");
    stage.units.forEach(function (unit) {
      var square = el("span", "unit unit-" + unit[2]);
      square.title = unit[1] + ": " + unit[2] + (unit[3] ? " — " + unit[3] : "");
      grid.appendChild(square);
    });
    card.appendChild(grid);
    return card;
  }

  function draw(snapshot) {
    var status = document.querySelector("[data-field=status]");
    if (status) {
      status.textContent = snapshot.status.replace(/_/g, " ");
      status.className = "badge rollout-" + snapshot.status;
    }
    var reason = document.querySelector("[data-field=status_reason]");
    if (reason) { reason.textContent = snapshot.status_reason || "—"; }
    document.querySelectorAll("[data-when]").forEach(function (form) {
      form.hidden = form.getAttribute("data-when").split(" ").indexOf(snapshot.status) < 0;
    });
    var cards = snapshot.stages.map(stageCard);
    root.replaceChildren.apply(root, cards);
  }

  var source = new EventSource(root.getAttribute("data-stream-url"));
  source.addEventListener("rollout", function (event) {
    var snapshot = JSON.parse(event.data);
    draw(snapshot);
    if (snapshot.finished_at) {
      source.close();  // the server ends the stream too; do not reconnect to a finished rollout
      live.textContent = "finished";
    } else {
      live.textContent = "updated " + new Date().toLocaleTimeString();
    }
  });
  source.onerror = function () { live.textContent = "reconnecting…"; };
})();
