// hubdesk agent UI: small progressive enhancements. The pages work without this file.
// - buttons with data-confirm ask before their form is posted;
// - a checkbox with data-select-all="name" ticks every checkbox of that name in its form;
// - "/" focuses the ticket search when not typing in a field;
// - a form with a one-time token (form_token) is sent once, however often its button is
//   clicked (the server refuses a repeat as well; see hubdesk.web.ui.once).
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-confirm]");
    if (button && !window.confirm(button.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });

  document.addEventListener("change", function (event) {
    var target = event.target;
    var name = target.getAttribute("data-select-all");
    if (name && target.form) {
      target.form.querySelectorAll('input[type="checkbox"][name="' + name + '"]').forEach(function (box) {
        box.checked = target.checked;
      });
    }
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || !form.querySelector('input[name="form_token"]')) return;
    if (form.getAttribute("data-sent")) {
      event.preventDefault();
      return;
    }
    form.setAttribute("data-sent", "1");
  });

  // Coming back to a page from the history shows the form as it was: it may be sent again
  // (with the same token, which the server then answers with the first result).
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-sent]").forEach(function (form) {
      form.removeAttribute("data-sent");
    });
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
    var active = document.activeElement;
    if (active && (active.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName))) return;
    var search = document.getElementById("top-q");
    if (search) {
      event.preventDefault();
      search.focus();
    }
  });
})();
