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
// The telephone screen-pop: every signed-in page listens to /events; a call ringing (or
// transferred) to this user's extension shows a banner linking to the caller's customer page, or
// to a search for the number when no customer has it.
document.addEventListener("DOMContentLoaded", function () {
  if (!document.getElementById("signout") || !window.EventSource) return;
  var source = new EventSource("/events");
  source.addEventListener("call", function (event) {
    var call;
    try { call = JSON.parse(event.data); } catch (e) { return; }
    var banner = document.getElementById("screen-pop");
    if (!banner) {
      banner = document.createElement("div");
      banner.id = "screen-pop";
      banner.className = "flash screen-pop";
      banner.setAttribute("role", "alert");
      banner.style.cssText = "position:fixed;top:1rem;right:1rem;z-index:1000;max-width:28rem;" +
        "box-shadow:0 2px 12px rgba(0,0,0,.3)";
      document.body.appendChild(banner);
    }
    banner.textContent = (call.state === "transferred" ? "Transferred call from " : "Incoming call from ") + call.caller_number + " — ";
    var link = document.createElement("a");
    link.href = call.url;
    link.id = "screen-pop-link";
    link.textContent = call.customer_id ? "open the customer" : "search for the number";
    banner.appendChild(link);
    var close = document.createElement("button");
    close.type = "button";
    close.className = "ghost";
    close.setAttribute("aria-label", "Dismiss");
    close.textContent = "×";
    close.addEventListener("click", function () { banner.remove(); });
    banner.appendChild(document.createTextNode(" "));
    banner.appendChild(close);
    link.focus();
  });
});
