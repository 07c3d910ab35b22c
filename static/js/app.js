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
  // the matching (names, NPI, protocol numbers), so each query shows what the lookup answered for
  // it, in the lookup's order, among the options Tom Select has gathered so far.
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
      var answers = {};  // query -> {value: rank} of what the lookup answered for it
      var latest = "";
      new window.TomSelect(select, {
        valueField: "value",
        labelField: "text",
        searchField: [],
        maxOptions: 20,
        preload: "focus",
        loadThrottle: 250,
        // Redraw the list at each key (the lookup itself is throttled above): Tom Select's delayed
        // redraw, still pending when an option is clicked quickly, reopened the list and took the
        // focus back from the next field.
        refreshThrottle: 0,
        closeAfterSelect: true,
        plugins: plugins,
        load: function (query, callback) {
          lookup(url, query, function (results) {
            if (results) {
              var ranks = {};
              results.forEach(function (result, i) { ranks[result.value] = i; });
              answers[query] = ranks;
              latest = query;
            }
            callback(results);
          });
        },
        score: function (query) {
          // Until this query's answer arrives, the last answer stays on show.
          var ranks = answers[query] || answers[latest] || {};
          return function (item) {
            var rank = ranks[item.value];
            return rank === undefined ? 0 : 1 - rank / 1000;
          };
        },
        render: {
          no_results: function () { return '<div class="no-results">No matches</div>'; },
          loading: function () { return '<div class="spinner-border spinner-border-sm m-2" role="status"><span class="visually-hidden">Loading</span></div>'; }
        }
      });
      // Tom Select points the field's <label> at its own text box, the combobox people use; the
      // original <select>, kept (out of sight and out of the tab order) only to submit the value,
      // leaves the accessibility tree, so a screen reader meets the field once.
      select.setAttribute("aria-hidden", "true");
    });
  }

  if (window.htmx) {
    // htmx.onLoad runs for the page and for every fragment htmx swaps in.
    window.htmx.onLoad(initPickers);
  } else {
    document.addEventListener("DOMContentLoaded", function () { initPickers(document); });
  }
})();
