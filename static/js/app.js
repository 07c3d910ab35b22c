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

  // Type-ahead pickers (liaison_crm/lookups.py): a <select data-lookup-url> holds only its chosen
  // option(s); Tom Select asks the lookup for at most 20 matches of what is typed. The server does
  // the matching, so Tom Select keeps every answer in the order it came (score 1).
  function lookup(url, query, callback) {
    var sep = url.indexOf("?") === -1 ? "?" : "&";
    fetch(url + sep + "q=" + encodeURIComponent(query), {
      credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      if (!response.ok) { throw new Error(response.status); }
      return response.json();
    }).then(function (data) { callback(data.results); }, function () { callback(); });
  }

  function initPickers(root) {
    if (typeof window.TomSelect === "undefined") { return; }
    var selects = root.querySelectorAll ? root.querySelectorAll("select[data-lookup-url]") : [];
    Array.prototype.forEach.call(selects, function (select) {
      if (select.tomselect) { return; }
      var url = select.getAttribute("data-lookup-url");
      var plugins = select.multiple ? ["remove_button"] : (select.required ? [] : ["clear_button"]);
      var picker = new window.TomSelect(select, {
        valueField: "value",
        labelField: "text",
        searchField: [],
        maxOptions: 20,
        preload: "focus",
        loadThrottle: 250,
        plugins: plugins,
        score: function () { return function () { return 1; }; },
        load: function (query, callback) {
          this.clearOptions();
          lookup(url, query, callback);
        },
        render: {
          no_results: function () { return '<div class="no-results">No matches</div>'; },
          loading: function () { return '<div class="spinner-border spinner-border-sm m-2" role="status"><span class="visually-hidden">Loading</span></div>'; }
        }
      });
      // Tom Select points the field's <label> at its own text box; the original <select>, kept
      // for the form, keeps the label's name too.
      var label = document.querySelector('label[for="' + picker.control_input.id + '"]');
      if (label && label.id) { select.setAttribute("aria-labelledby", label.id); }
    });
  }

  if (window.htmx) {
    // htmx.onLoad runs for the page and for every fragment htmx swaps in.
    window.htmx.onLoad(initPickers);
  } else {
    document.addEventListener("DOMContentLoaded", function () { initPickers(document); });
  }
})();
