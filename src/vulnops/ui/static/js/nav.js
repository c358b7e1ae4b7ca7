// On a narrow screen the navigation and the account links fold behind the Menu button.
(function () {
  "use strict";
  var button = document.querySelector(".menu-toggle");
  if (!button) { return; }
  var bar = button.closest(".topbar");
  button.addEventListener("click", function () {
    var open = bar.classList.toggle("open");
    button.setAttribute("aria-expanded", open ? "true" : "false");
  });
})();
