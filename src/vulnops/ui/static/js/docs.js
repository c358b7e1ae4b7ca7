// Starts Swagger UI on /docs; kept out of the page so the Content-Security-Policy needs no inline script.
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  window.SwaggerUIBundle({
    url: root.getAttribute("data-openapi-url"),
    dom_id: "#swagger-ui",
    deepLinking: true,
  });
})();
