// Physicians app: small progressive enhancements (no inline scripts; CSP-friendly).
(function () {
  "use strict";

  // "Another insight" on the interaction form: clone the formset's empty form.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-add-insight]");
    if (!button) { return; }
    var total = document.getElementById("id_insights-TOTAL_FORMS");
    var template = document.getElementById("insight-empty-form");
    var target = document.getElementById("insight-forms");
    if (!total || !template || !target) { return; }
    var index = parseInt(total.value, 10);
    var max = parseInt(document.getElementById("id_insights-MAX_NUM_FORMS").value, 10);
    if (index >= max) { button.disabled = true; return; }
    var html = template.innerHTML.replace(/__prefix__/g, String(index));
    target.insertAdjacentHTML("beforeend", html);
    total.value = String(index + 1);
    var added = target.lastElementChild;
    if (window.htmx) {
      // Content added outside htmx: process it, and announce it as htmx announces what it swaps
      // in (htmx:load), so that app.js starts the pickers (Tom Select) in the new fieldset.
      window.htmx.process(added);
      window.htmx.trigger(added, "htmx:load");
    }
    var first = added.querySelector("select, textarea, input");
    if (first) { first.focus(); }
  });
})();
