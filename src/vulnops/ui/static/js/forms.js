// Forms that fail gently, on every page: what was typed in a form is kept (sessionStorage,
// this tab only) while it is sent; when the next page says the form was refused, the form gets
// its values back and the error stands beside the field it is about. When it succeeded, the
// kept values are forgotten. Passwords and files are never kept.
(function () {
  "use strict";
  var PREFIX = "vulnops-form:";

  function keyOf(form) {
    var action = new URL(form.getAttribute("action") || window.location.pathname,
                         window.location.href).pathname;
    var same = document.querySelectorAll("form[method=post]");
    var index = 0;
    for (var i = 0; i < same.length; i++) {
      if (same[i] === form) { break; }
      if (new URL(same[i].getAttribute("action") || window.location.pathname,
                  window.location.href).pathname === action) { index++; }
    }
    return { action: action, storage: PREFIX + action + "#" + index };
  }

  function kept(field) {
    var type = (field.type || "").toLowerCase();
    return field.name && field.name !== "csrftoken" && type !== "password" && type !== "file" &&
      type !== "hidden" && type !== "submit" && !field.hasAttribute("data-not-kept");
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || (form.method || "").toLowerCase() !== "post") {
      return;
    }
    var values = {};
    Array.prototype.forEach.call(form.elements, function (field) {
      if (!kept(field)) { return; }
      if (field.type === "checkbox" || field.type === "radio") {
        if (field.checked) { (values[field.name] = values[field.name] || []).push(field.value); }
        else { values[field.name] = values[field.name] || []; }
      } else {
        values[field.name] = field.value;
      }
    });
    try { sessionStorage.setItem(keyOf(form).storage, JSON.stringify(values)); } catch (e) { /* full */ }
  }, true);

  function restore(form, values) {
    Array.prototype.forEach.call(form.elements, function (field) {
      if (!kept(field) || !(field.name in values)) { return; }
      var value = values[field.name];
      if (field.type === "checkbox" || field.type === "radio") {
        field.checked = Array.isArray(value) && value.indexOf(field.value) >= 0;
      } else if (typeof value === "string") {
        field.value = value;
      }
    });
    var details = form.closest("details");
    if (details) { details.open = true; }
  }

  function besideField(form, name, message) {
    var field = name ? form.querySelector("[name='" + name.replace(/'/g, "") + "']") : null;
    var note = document.createElement("p");
    note.className = "field-error";
    note.setAttribute("role", "alert");
    note.textContent = message;
    if (field) {
      field.setAttribute("aria-invalid", "true");
      var holder = field.closest("label") || field;
      holder.insertAdjacentElement("afterend", note);
      field.focus({ preventScroll: true });
    } else {
      form.insertAdjacentElement("afterbegin", note);
    }
    note.scrollIntoView({ block: "center" });
  }

  function forms(action) {
    return Array.prototype.filter.call(document.querySelectorAll("form[method=post]"), function (f) {
      return keyOf(f).action === action;
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll(".flash[data-form]"), function (flash) {
    var refused = flash.classList.contains("flash-error");
    var candidates = forms(flash.getAttribute("data-form"));
    var sent = candidates.filter(function (form) {
      var storage = keyOf(form).storage;
      var saved = sessionStorage.getItem(storage);
      sessionStorage.removeItem(storage);
      if (saved && refused) { restore(form, JSON.parse(saved)); }
      return Boolean(saved);
    });
    if (!refused) { return; }
    (sent.length ? sent : candidates.slice(0, 1)).forEach(function (form) {
      besideField(form, flash.getAttribute("data-field"), flash.textContent);
    });
  });
})();
