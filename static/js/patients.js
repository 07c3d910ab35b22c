// Patients app: small enhancements, no inline scripts (CSP-friendly).
(function () {
  "use strict";

  // The referral-source search: "Pick" fills the physician or institution id field.
  document.addEventListener("click", function (event) {
    var btn = event.target.closest("[data-pick-id]");
    if (!btn) { return; }
    var input = document.querySelector('input[data-lookup="' + btn.getAttribute("data-pick-kind") + '"]');
    if (input) {
      input.value = btn.getAttribute("data-pick-id");
      input.dispatchEvent(new Event("change", { bubbles: true }));
      input.focus();
    }
  });

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
