// Polls the scan status of every element marked data-scan-status while a scan is pending
// or in progress, and reloads the page once one finishes (so counts and tables refresh).
(function () {
  "use strict";
  var cells = document.querySelectorAll("[data-scan-status]");
  var waiting = Array.prototype.filter.call(cells, function (el) {
    return el.getAttribute("data-scan-state") === "PENDING" ||
      el.getAttribute("data-scan-state") === "IN_PROGRESS";
  });
  if (!waiting.length) { return; }
  function poll() {
    var pending = waiting.map(function (el) {
      return fetch(el.getAttribute("data-scan-status"), {credentials: "same-origin"})
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (s) {
          if (!s) { return false; }
          el.querySelector(".label").textContent = s.label;
          return s.status !== "PENDING" && s.status !== "IN_PROGRESS";
        })
        .catch(function () { return false; });
    });
    Promise.all(pending).then(function (done) {
      if (done.some(Boolean)) { window.location.reload(); } else { setTimeout(poll, 2000); }
    });
  }
  setTimeout(poll, 2000);
})();

// A page whose counts are still being worked out (data-reload-after="seconds") reloads itself.
(function () {
  "use strict";
  var el = document.querySelector("[data-reload-after]");
  if (!el) { return; }
  var seconds = Number(el.getAttribute("data-reload-after")) || 2;
  setTimeout(function () { window.location.reload(); }, seconds * 1000);
})();
