// The cashier console: an account found by name, phone or address is picked from a list with
// the arrow keys, tender keys 1-5 name the tender as they are typed, a refused payment's
// form is swapped in (htmx leaves 4xx answers alone by default), and after each post the cursor
// goes back to the account box. Also the receipt's Print button. Safe to load more than once.
(function () {
  if (window.caredeskCashier) return;
  window.caredeskCashier = true;

  function showTender() {
    var input = document.getElementById("cashier-tender");
    var out = document.getElementById("cashier-tender-name");
    if (!input || !out) return;
    var items = document.querySelectorAll("#cashier-tenders li");
    var name = "";
    for (var i = 0; i < items.length; i++) {
      var li = items[i];
      var hit = li.dataset.key === input.value.trim() || li.dataset.code === input.value.trim();
      li.classList.toggle("current", hit);
      if (hit) name = li.textContent.replace(/^\s*\d\s*/, "");
    }
    out.textContent = name;
  }

  document.addEventListener("input", function (event) {
    if (event.target && event.target.id === "cashier-tender") showTender();
  });

  // A tender key replaces what is in the tender box, so 1-5 always picks exactly one tender.
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (!target || target.id !== "cashier-tender") return;
    if (/^[1-5]$/.test(event.key) && !event.ctrlKey && !event.metaKey && !event.altKey) {
      event.preventDefault();
      target.value = event.key;
      showTender();
    }
  });

  function fromConsole(event) {
    var info = event.detail.pathInfo;
    return !!info && info.requestPath === "/cashier/payments";
  }

  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr && event.detail.xhr.status;
    if ((status === 409 || status === 422 || status === 403) && fromConsole(event)) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  // After settling, not after the swap: htmx wires up the new form's boxes only when it settles
  // (20 ms later), and what is typed into the account box before that loads no panel.
  document.addEventListener("htmx:afterSettle", function (event) {
    if (!fromConsole(event)) return;
    var error = document.getElementById("cashier-error");
    var focus = document.getElementById(error ? "cashier-amount" : "cashier-account");
    if (focus) focus.focus();
    showTender();
  });

  document.addEventListener("click", function (event) {
    if (event.target && event.target.hasAttribute && event.target.hasAttribute("data-print")) window.print();
    var option = event.target && event.target.closest && event.target.closest("#cashier-picks li[data-account]");
    if (option) pick(option);
  });

  // The pick list found by name, phone or address: Down from the account box enters it, Up and
  // Down move, Enter takes the account (its number fills the box and its panel loads), Escape
  // goes back to the box.
  function options() {
    return Array.prototype.slice.call(document.querySelectorAll("#cashier-picks li[data-account]"));
  }

  function choose(option) {
    options().forEach(function (li) {
      li.setAttribute("aria-selected", li === option ? "true" : "false");
      li.classList.toggle("current", li === option);
    });
    option.focus();
  }

  function pick(option) {
    var account = document.getElementById("cashier-account");
    if (!account) return;
    account.value = option.dataset.account;
    // The box loads its panel on typing or on this event; a blur does not reload the list.
    if (window.htmx) window.htmx.trigger(account, "cashier-pick");
    var amount = document.getElementById("cashier-amount");
    if (amount) amount.focus();
  }

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (!target) return;
    var list = options();
    if (target.id === "cashier-account" && event.key === "ArrowDown" && list.length) {
      event.preventDefault();
      choose(list[0]);
      return;
    }
    var at = list.indexOf(target);
    if (at < 0) return;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      var next = event.key === "ArrowDown" ? Math.min(at + 1, list.length - 1) : at - 1;
      if (next < 0) document.getElementById("cashier-account").focus();
      else choose(list[next]);
    } else if (event.key === "Enter") {
      event.preventDefault();
      pick(target);
    } else if (event.key === "Escape") {
      event.preventDefault();
      document.getElementById("cashier-account").focus();
    }
  });

  function ready() {
    showTender();
    var account = document.getElementById("cashier-account");
    if (account && !document.activeElement.closest("#cashier-form")) account.focus();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else ready();
})();

// The payment file page: a picked file is read into the text box (no multipart upload needed).
document.addEventListener("change", function (event) {
  var input = event.target;
  if (!input || !input.dataset || !input.dataset.fileInto || !input.files || !input.files[0]) return;
  var file = input.files[0];
  var name = document.getElementById("file-name");
  if (name) name.value = file.name;
  file.text().then(function (text) {
    var box = document.getElementById(input.dataset.fileInto);
    if (box) box.value = text;
  });
});
