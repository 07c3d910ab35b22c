// Liaison CRM: small progressive enhancements. No inline scripts anywhere (CSP-friendly).
(function () {
  "use strict";

  // A button or link with data-confirm asks before it acts (decline, cancel, delete).
  document.addEventListener("click", function (event) {
    var el = event.target.closest("[data-confirm]");
    if (el && !window.confirm(el.getAttribute("data-confirm"))) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  // htmx: show server-side validation responses (422) in place, like a 200.
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.xhr.status === 422 || event.detail.xhr.status === 409) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  // A select or checkbox in a filter bar with data-autosubmit submits its form.
  document.addEventListener("change", function (event) {
    var el = event.target.closest("[data-autosubmit]");
    if (el && el.form) { el.form.requestSubmit(); }
  });
})();
