// Documents: drag-and-drop onto an upload form, the chosen files listed, the upload's progress bar
// (htmx's htmx:xhr:progress event), and each PDF's first page drawn by pdf.js. No inline script.
(function () {
  "use strict";

  var script = document.currentScript;
  var pdfjsUrl = script && script.getAttribute("data-pdfjs");
  var workerUrl = script && script.getAttribute("data-pdfjs-worker");

  function uploadForm(target) {
    return target && target.closest ? target.closest("form[data-upload]") : null;
  }

  function hasFiles(event) {
    var types = event.dataTransfer && event.dataTransfer.types;
    return !!types && Array.prototype.indexOf.call(types, "Files") !== -1;
  }

  function listChosen(form) {
    var input = form.querySelector("input[type=file]");
    var list = form.querySelector("[data-chosen]");
    if (!input || !list) { return; }
    list.textContent = "";
    Array.prototype.forEach.call(input.files || [], function (file) {
      var item = document.createElement("li");
      item.textContent = file.name + " (" + Math.max(1, Math.round(file.size / 1024)) + " KB)";
      list.appendChild(item);
    });
  }

  // Dropped files become the form's file input's files, as if chosen.
  document.addEventListener("dragover", function (event) {
    var form = uploadForm(event.target);
    if (!form || !hasFiles(event)) { return; }
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
    form.classList.add("drop-active");
  });
  document.addEventListener("dragleave", function (event) {
    var form = uploadForm(event.target);
    if (form && !form.contains(event.relatedTarget)) { form.classList.remove("drop-active"); }
  });
  document.addEventListener("drop", function (event) {
    var form = uploadForm(event.target);
    if (!form || !hasFiles(event)) { return; }
    event.preventDefault();
    form.classList.remove("drop-active");
    var input = form.querySelector("input[type=file]");
    if (!input) { return; }
    input.files = event.dataTransfer.files;
    input.dispatchEvent(new Event("change", { bubbles: true }));
  });
  document.addEventListener("change", function (event) {
    var form = uploadForm(event.target);
    if (form && event.target.matches("input[type=file]")) { listChosen(form); }
  });

  // The progress bar follows the upload (htmx sends the form as multipart: hx-encoding).
  document.addEventListener("htmx:xhr:progress", function (event) {
    var form = uploadForm(event.target);
    var bar = form && form.querySelector("[data-progress]");
    if (!bar || !event.detail.lengthComputable || !event.detail.total) { return; }
    bar.hidden = false;
    bar.value = Math.round((event.detail.loaded / event.detail.total) * 100);
  });
  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = uploadForm(event.target);
    var button = form && form.querySelector("button[type=submit]");
    if (button) { button.disabled = true; }
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = uploadForm(event.target);
    var button = form && form.querySelector("button[type=submit]");
    if (button) { button.disabled = false; }
  });

  // PDF previews: the first page, drawn when its row scrolls into view (pdf.js, loaded once).
  var library = null;
  function pdfjs() {
    if (!library) {
      library = import(pdfjsUrl).then(function (lib) {
        lib.GlobalWorkerOptions.workerSrc = workerUrl;
        return lib;
      });
    }
    return library;
  }

  function draw(canvas) {
    canvas.setAttribute("data-rendered", "loading");
    var cssWidth = canvas.width;
    pdfjs().then(function (lib) {
      return lib.getDocument({ url: canvas.getAttribute("data-pdf-src"), enableXfa: false }).promise;
    }).then(function (pdf) {
      return pdf.getPage(1);
    }).then(function (page) {
      var ratio = window.devicePixelRatio || 1;
      var scale = (cssWidth / page.getViewport({ scale: 1 }).width) * ratio;
      var viewport = page.getViewport({ scale: scale });
      canvas.width = Math.floor(viewport.width);
      canvas.height = Math.floor(viewport.height);
      canvas.style.width = cssWidth + "px";
      canvas.style.height = Math.floor(viewport.height / ratio) + "px";
      return page.render({ canvas: canvas, viewport: viewport }).promise;
    }).then(function () {
      canvas.setAttribute("data-rendered", "true");
    }, function () {
      canvas.setAttribute("data-rendered", "failed");
    });
  }

  var observer = "IntersectionObserver" in window ? new IntersectionObserver(function (entries) {
    entries.forEach(function (entry) {
      if (entry.isIntersecting) {
        observer.unobserve(entry.target);
        draw(entry.target);
      }
    });
  }, { rootMargin: "200px" }) : null;

  function previews(root) {
    if (!pdfjsUrl || !root.querySelectorAll) { return; }
    root.querySelectorAll("canvas[data-pdf-src]:not([data-rendered])").forEach(function (canvas) {
      canvas.setAttribute("data-rendered", "waiting");
      if (observer) { observer.observe(canvas); } else { draw(canvas); }
    });
  }

  document.addEventListener("htmx:afterSettle", function () { previews(document); });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { previews(document); });
  } else {
    previews(document);
  }
})();
