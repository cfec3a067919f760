// hubdesk agent UI: small progressive enhancements. The pages work without this file.
// - buttons with data-confirm ask before their form is posted;
// - a checkbox with data-select-all="name" ticks every checkbox of that name in its form;
// - "/" focuses the ticket search when not typing in a field.
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

// The reply box's canned-response picker: the filled-in text goes into the reply at the cursor
// (without this script the picker reloads the page with the text in the reply box).
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList || !form.classList.contains("canned-picker")) return;
    var target = document.getElementById(form.getAttribute("data-target"));
    var choice = form.querySelector("select");
    if (!target || !choice || !window.fetch) return;
    event.preventDefault();
    fetch(form.getAttribute("data-fill-url") + encodeURIComponent(choice.value), {
      credentials: "same-origin",
      headers: { Accept: "application/json" }
    }).then(function (response) {
      if (!response.ok) throw new Error("canned response " + response.status);
      return response.json();
    }).then(function (data) {
      var start = target.selectionStart, end = target.selectionEnd, value = target.value;
      if (typeof start !== "number") start = end = value.length;
      target.value = value.slice(0, start) + data.text + value.slice(end);
      target.focus();
      target.selectionStart = target.selectionEnd = start + data.text.length;
    }).catch(function () { form.submit(); });
  });
})();
