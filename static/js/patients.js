// Patients app: small enhancements, no inline scripts (CSP-friendly).
(function () {
  "use strict";

  // The print page: a button (never an inline handler) opens the browser's print dialog.
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-print]")) { window.print(); }
  });

  // Show the legal representative's fields only when a representative signs.
  function syncRepresentative(root) {
    (root || document).querySelectorAll("select[name$='signed_by']").forEach(function (select) {
      var form = select.form;
      if (!form) { return; }
      form.querySelectorAll("[data-representative]").forEach(function (el) {
        el.hidden = select.value !== "representative";
      });
    });
  }
  document.addEventListener("change", function (event) {
    if (event.target.matches("select[name$='signed_by']")) { syncRepresentative(event.target.form); }
  });
  document.addEventListener("htmx:afterSwap", function (event) { syncRepresentative(event.target); });
  document.addEventListener("DOMContentLoaded", function () { syncRepresentative(document); });
})();
