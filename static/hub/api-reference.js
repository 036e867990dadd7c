// Renders the admin API reference from the document the hub serves; nothing loads from outside.
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/api/v1/openapi.json",
    dom_id: "#reference",
    deepLinking: true,
    persistAuthorization: true,
  });
});
