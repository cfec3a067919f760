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

// The ticket page keeps itself current (hubdesk.web.ui.live): an event stream says when the
// ticket changed (the history and facts are fetched and swapped in; what is being typed stays)
// and who else has it open; a heartbeat says whether this agent is viewing or replying.
(function () {
  "use strict";
  var live = document.getElementById("live");
  if (!live || !window.EventSource || !window.fetch || !window.DOMParser) return;
  var csrf = document.querySelector('input[name="csrf_token"]');
  var heartbeat = parseInt(live.getAttribute("data-heartbeat"), 10) || 10;
  var reported = "viewing";

  function report(state) {
    if (!csrf) return;
    var body = new FormData();
    body.append("csrf_token", csrf.value);
    body.append("state", state);
    reported = state;
    fetch(live.getAttribute("data-presence"), {
      method: "POST", body: body, credentials: "same-origin", keepalive: state === "left"
    }).catch(function () {});
  }

  function stateNow() {
    var box = document.getElementById("reply-body");
    var busy = box && (document.activeElement === box || box.value.trim() !== "");
    return busy ? "replying" : "viewing";
  }

  function maybeReport() {
    if (stateNow() !== reported) report(stateNow());
  }

  ["focusin", "focusout", "input"].forEach(function (name) {
    document.addEventListener(name, function (event) {
      if (event.target && event.target.id === "reply-body") maybeReport();
    });
  });
  window.setInterval(function () { report(stateNow()); }, heartbeat * 1000);
  window.addEventListener("pagehide", function () { report("left"); });

  function swap(fresh, selector) {
    var now = document.querySelector(selector), next = fresh.querySelector(selector);
    if (now && next) now.replaceWith(next);
  }

  function refresh() {
    fetch(window.location.href, { credentials: "same-origin" }).then(function (response) {
      if (!response.ok) throw new Error("ticket page " + response.status);
      return response.text();
    }).then(function (html) {
      var fresh = new DOMParser().parseFromString(html, "text/html");
      swap(fresh, ".timeline");
      swap(fresh, ".ticket-head .facts");
      var note = document.getElementById("live-updated");
      if (note) note.hidden = false;
    }).catch(function () {});
  }

  var source = new EventSource(live.getAttribute("data-events"));
  source.addEventListener("changed", refresh);
  source.addEventListener("presence", function (event) {
    var shown = document.getElementById("presence");
    var data = JSON.parse(event.data);
    if (!shown) return;
    shown.textContent = data.text;
    shown.hidden = !data.text;
  });
  window.addEventListener("pagehide", function () { source.close(); });
})();
