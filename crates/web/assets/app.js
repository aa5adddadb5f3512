// Keyboard shortcuts and the theme switch. "/" focuses the global search box from anywhere
// except while typing in a field.
document.addEventListener("keydown", function (event) {
  if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
  var tag = (event.target && event.target.tagName) || "";
  if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || event.target.isContentEditable) return;
  var box = document.getElementById("global-search");
  if (box) { event.preventDefault(); box.focus(); box.select(); }
});
// A select marked data-insert-into="ID" (the canned answer picker) appends its chosen value to
// the textarea with that id, then resets itself.
document.addEventListener("change", function (event) {
  var select = event.target;
  if (!select || !select.dataset || !select.dataset.insertInto || !select.value) return;
  var area = document.getElementById(select.dataset.insertInto);
  if (!area) return;
  area.value = area.value ? area.value.replace(/\s*$/, "") + "\n\n" + select.value : select.value;
  select.value = "";
  area.focus();
});
// A form marked data-upload="URL" sends its file's bytes to that API route (with the session's
// CSRF token), then reloads the page; the server checks size and type and names any problem.
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (!form || !form.dataset || !form.dataset.upload) return;
  event.preventDefault();
  var input = form.querySelector("input[type=file]");
  var file = input && input.files && input.files[0];
  var error = form.querySelector("[data-upload-error]");
  if (!file) return;
  var url = form.dataset.upload + "?file_name=" + encodeURIComponent(file.name);
  fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "x-csrf-token": form.dataset.csrf, "content-type": "application/octet-stream" },
    body: file
  }).then(function (response) {
    if (response.ok) { window.location.reload(); return; }
    return response.json().then(function (problem) {
      if (error) { error.textContent = problem.detail || "The upload was refused."; error.hidden = false; }
    });
  }).catch(function () {
    if (error) { error.textContent = "The upload failed; check the connection and try again."; error.hidden = false; }
  });
});
document.addEventListener("DOMContentLoaded", function () {
  var toggle = document.getElementById("theme-toggle");
  if (!toggle) return;
  toggle.addEventListener("click", function () {
    var root = document.documentElement;
    var next = root.getAttribute("data-theme") === "dark" ? "light" : "dark";
    root.setAttribute("data-theme", next);
    try { localStorage.setItem("caredesk-theme", next); } catch (e) {}
  });
});
