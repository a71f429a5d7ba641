// Starts Swagger UI on /api/v1/docs. A file rather than an inline script, so that the page
// works under the Content-Security-Policy script-src 'self' (app/headers.py).
const root = document.getElementById("swagger-ui");
window.ui = SwaggerUIBundle({
  url: root.dataset.openapiUrl,
  dom_id: "#swagger-ui",
  layout: "BaseLayout",
  deepLinking: true,
  showExtensions: true,
  showCommonExtensions: true,
  presets: [SwaggerUIBundle.presets.apis],
  // No spec or configuration from the page's query string (?url=, ?configUrl=): a link could
  // otherwise make the page show a document of someone else's choosing on our origin.
  queryConfigEnabled: false,
  // The validator badge would load an image from validator.swagger.io.
  validatorUrl: null,
});
