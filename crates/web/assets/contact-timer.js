// The contact panel's running timer and keyboard submit. Loaded by the panel itself (CSP forbids
// inline scripts); safe to load more than once, since htmx swaps a fresh panel in after each
// contact. Each timer counts from when this page first saw it, so a new panel starts at 0:00.
(function () {
  if (window.caredeskContactTimer) return;
  window.caredeskContactTimer = true;

  function format(seconds) {
    var h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    var ss = (s < 10 ? "0" : "") + s;
    if (h > 0) return h + ":" + (m < 10 ? "0" : "") + m + ":" + ss;
    return m + ":" + ss;
  }

  function tick() {
    var now = Date.now();
    var timers = document.querySelectorAll("[data-contact-timer]");
    for (var i = 0; i < timers.length; i++) {
      var el = timers[i];
      if (!el.dataset.t0) el.dataset.t0 = String(now);
      el.textContent = format(Math.max(0, Math.floor((now - Number(el.dataset.t0)) / 1000)));
    }
  }
  tick();
  setInterval(tick, 250);
  // A panel htmx has just swapped in starts counting at once, not at the next tick.
  document.addEventListener("htmx:load", tick);

  // Ctrl+Enter (or Cmd+Enter) anywhere in the contact form submits it.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey)) return;
    var form = event.target && event.target.closest && event.target.closest("form[data-contact-form]");
    if (!form) return;
    event.preventDefault();
    if (form.requestSubmit) form.requestSubmit(); else form.submit();
  });
})();
