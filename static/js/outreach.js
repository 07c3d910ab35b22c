// Outreach: copy the calendar feed address. No inline scripts (CSP).
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy-target]");
    if (!button) { return; }
    var field = document.getElementById(button.getAttribute("data-copy-target"));
    if (!field) { return; }
    field.select();
    if (navigator.clipboard) {
      navigator.clipboard.writeText(field.value).then(function () { button.textContent = "Copied"; });
    }
  });
})();
