/* Keyboard shortcuts for the review loop, on top of pages that work without script.
 *
 * j / k   move to the next / previous case of the list (rows of table[data-review-list])
 * o       open the selected case (Enter on its focused link does the same)
 * x       tick or untick the selected case for a bulk action
 * c, q, d and any other key named by an element's data-shortcut: press that button or link, or
 *         focus that field (d: the decision's reason on a case page); an element marked
 *         data-shortcut-focus is only focused (1-4: a decision button, so Enter decides and a
 *         stray key press never decides a case)
 * ?       show or hide the list of shortcuts of this page; Escape hides it
 * Keys typed into a field, or pressed with Ctrl/Alt/Meta, are left alone.
 *
 * A page marked data-refresh-seconds (the queue's first page) reloads itself that often, but
 * not while a case is ticked or a field has focus, so a half-made bulk choice is never lost.
 */
(function () {
  "use strict";
  var list = document.querySelector("table[data-review-list] tbody");
  var rows = list ? Array.prototype.slice.call(list.querySelectorAll("tr")) : [];
  var current = -1;
  var help = null;

  function typing(target) {
    var tag = target && target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable);
  }

  function select(index) {
    if (!rows.length) return;
    current = Math.max(0, Math.min(rows.length - 1, index));
    rows.forEach(function (row, i) {
      row.classList.toggle("current", i === current);
      row.setAttribute("aria-selected", i === current ? "true" : "false");
    });
    var link = rows[current].querySelector("a[href]");
    if (link) link.focus();
  }

  function shortcuts() {
    var found = [];
    if (rows.length) {
      found.push(["j", "next case"], ["k", "previous case"], ["o", "open the selected case"]);
      if (list.querySelector("input[type=checkbox]")) found.push(["x", "tick the selected case for a bulk action"]);
    }
    document.querySelectorAll("[data-shortcut]").forEach(function (el) {
      found.push([el.getAttribute("data-shortcut"), el.getAttribute("data-shortcut-label") || el.textContent.trim()]);
    });
    found.push(["?", "show or hide this list"], ["Esc", "close it"]);
    return found;
  }

  function buildHelp() {
    var box = document.createElement("div");
    box.className = "shortcut-help";
    box.id = "shortcut-help";
    box.setAttribute("role", "dialog");
    box.setAttribute("aria-modal", "false");
    box.setAttribute("aria-labelledby", "shortcut-help-title");
    box.tabIndex = -1;
    var title = document.createElement("h2");
    title.id = "shortcut-help-title";
    title.textContent = "Keyboard shortcuts";
    box.appendChild(title);
    var dl = document.createElement("dl");
    shortcuts().forEach(function (pair) {
      var dt = document.createElement("dt");
      var kbd = document.createElement("kbd");
      kbd.textContent = pair[0];
      dt.appendChild(kbd);
      var dd = document.createElement("dd");
      dd.textContent = pair[1];
      dl.appendChild(dt);
      dl.appendChild(dd);
    });
    box.appendChild(dl);
    var close = document.createElement("button");
    close.type = "button";
    close.textContent = "Close";
    close.addEventListener("click", hideHelp);
    box.appendChild(close);
    box.hidden = true;
    document.body.appendChild(box);
    return box;
  }

  var opener = null;
  function showHelp() {
    help = help || buildHelp();
    opener = document.activeElement;
    help.hidden = false;
    help.focus();
  }
  function hideHelp() {
    if (!help || help.hidden) return;
    help.hidden = true;
    if (opener && opener.focus) opener.focus();
  }

  var hint = document.createElement("p");
  hint.className = "shortcut-hint muted";
  hint.textContent = "Press ? for keyboard shortcuts.";
  var main = document.querySelector("main");
  if (main) main.appendChild(hint);

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.altKey || event.metaKey || typing(event.target)) return;
    var key = event.key;
    if (key === "Escape") { hideHelp(); return; }
    if (key === "?") { event.preventDefault(); if (help && !help.hidden) { hideHelp(); } else { showHelp(); } return; }
    if (help && !help.hidden) return;
    if (rows.length && (key === "j" || key === "k")) {
      event.preventDefault();
      select(current < 0 ? 0 : current + (key === "j" ? 1 : -1));
      return;
    }
    if (rows.length && key === "x" && current >= 0) {
      var box = rows[current].querySelector("input[type=checkbox]");
      if (box) { event.preventDefault(); box.checked = !box.checked; }
      return;
    }
    if (rows.length && key === "o" && current >= 0) {
      var link = rows[current].querySelector("a[href]");
      if (link) { event.preventDefault(); link.click(); }
      return;
    }
    var target = document.querySelector('[data-shortcut="' + (key.length === 1 ? key : "") + '"]');
    if (!target || target.disabled) return;
    event.preventDefault();
    // A field is focused (to type a reason); a button or link is pressed.
    if (/^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName) || target.hasAttribute("data-shortcut-focus")) {
      target.focus();
    } else {
      target.click();
    }
  });

  var refresh = document.querySelector("[data-refresh-seconds]");
  if (refresh) {
    var seconds = parseInt(refresh.getAttribute("data-refresh-seconds"), 10) || 30;
    window.setInterval(function () {
      var ticked = document.querySelector("input[type=checkbox]:checked");
      if (!ticked && !typing(document.activeElement) && !(help && !help.hidden)) window.location.reload();
    }, seconds * 1000);
  }
})();
