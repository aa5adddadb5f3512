// Applies the saved light/dark choice before the page paints, so it never flashes.
(function () {
  var saved = null;
  try { saved = localStorage.getItem("caredesk-theme"); } catch (e) {}
  var dark = saved ? saved === "dark" : window.matchMedia("(prefers-color-scheme: dark)").matches;
  document.documentElement.setAttribute("data-theme", dark ? "dark" : "light");
})();
