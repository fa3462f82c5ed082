// Starts Swagger UI on the API page. A file of its own: the app's CSP allows no inline script.
// No validator badge: the page works without internet and sends the document nowhere.
window.addEventListener("DOMContentLoaded", function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.getAttribute("data-spec"),
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
    defaultModelsExpandDepth: 0,
    persistAuthorization: false
  });
});
