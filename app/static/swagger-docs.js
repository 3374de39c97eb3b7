/* Starts the vendored Swagger UI on /docs (no inline script: the Content-Security-Policy allows
   only this site's files). Requests made with the session cookie carry the CSRF token: the one
   the page was rendered with, replaced by the one a "POST /api/v1/session" answers with. */
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  var token = meta ? meta.getAttribute("content") : "";

  window.addEventListener("DOMContentLoaded", function () {
    var root = document.getElementById("swagger-ui");
    window.ui = window.SwaggerUIBundle({
      url: root.getAttribute("data-openapi-url"),
      dom_id: "#swagger-ui",
      layout: "BaseLayout",
      deepLinking: true,
      showExtensions: true,
      showCommonExtensions: true,
      presets: [window.SwaggerUIBundle.presets.apis, window.SwaggerUIBundle.SwaggerUIStandalonePreset].filter(Boolean),
      requestInterceptor: function (request) {
        if (token) request.headers["X-CSRF-Token"] = token;
        return request;
      },
      responseInterceptor: function (response) {
        var fresh = response.headers && (response.headers["x-csrf-token"] || response.headers["X-CSRF-Token"]);
        if (fresh) token = fresh;
        return response;
      }
    });
  });
})();
