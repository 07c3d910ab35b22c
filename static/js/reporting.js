// Reporting dashboards: draw the charts from the JSON the page carries (json_script), and show
// the custom date inputs only for a custom period. No inline code (CSP-friendly).
(function () {
  "use strict";

  var PALETTE = ["#1d5f8a", "#c27a1d", "#1d8a5f", "#7a4cc2", "#b42318", "#5b6b7b", "#2aa3c4", "#d4a72c"];

  function config(spec) {
    var isCircle = spec.type === "doughnut" || spec.type === "pie";
    var datasets = spec.datasets.map(function (ds, i) {
      var colour = isCircle ? PALETTE.slice(0, ds.data.length) : PALETTE[i % PALETTE.length];
      return { label: ds.label, data: ds.data, backgroundColor: colour, borderWidth: isCircle ? 1 : 0 };
    });
    var options = {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      plugins: { legend: { display: isCircle || datasets.length > 1, position: "bottom" } }
    };
    if (!isCircle) {
      var valueAxis = { beginAtZero: true, stacked: !!spec.stacked, ticks: { precision: 0 } };
      if (spec.percent) { valueAxis.max = 100; }
      var categoryAxis = { stacked: !!spec.stacked };
      options.indexAxis = spec.horizontal ? "y" : "x";
      options.scales = spec.horizontal ? { x: valueAxis, y: categoryAxis } : { x: categoryAxis, y: valueAxis };
    }
    return { type: spec.type, data: { labels: spec.labels, datasets: datasets }, options: options };
  }

  function drawCharts() {
    if (typeof window.Chart === "undefined") { return; }
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var source = document.getElementById(canvas.getAttribute("data-chart"));
      if (!source) { return; }
      try {
        new window.Chart(canvas, config(JSON.parse(source.textContent)));
        canvas.setAttribute("data-rendered", "true");
      } catch (err) {
        canvas.setAttribute("data-rendered", "error");
        if (window.console) { window.console.error(err); }
      }
    });
  }

  function toggleCustomDates() {
    var select = document.querySelector("[data-range-select]");
    if (!select) { return; }
    var custom = select.value === "custom";
    document.querySelectorAll("[data-custom-dates]").forEach(function (el) {
      el.hidden = !custom;
      el.querySelectorAll("input").forEach(function (input) { input.disabled = !custom; });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    drawCharts();
    toggleCustomDates();
    var select = document.querySelector("[data-range-select]");
    if (select) {
      select.addEventListener("change", function () {
        toggleCustomDates();
        // A preset applies at once; a custom period waits for its dates and the Apply button.
        if (select.value !== "custom" && select.form) { select.form.requestSubmit(); }
      });
    }
  });
})();
