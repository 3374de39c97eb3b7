/* Rolltext — the little HTMX cannot do by itself: open and close provision panels in place
   (without losing words being typed), move focus for keyboard users, keep aria-expanded true. */
(function () {
  "use strict";

  function labelFor(slotId) {
    return document.querySelector('.line-label[aria-controls="' + slotId + '"]');
  }

  /* Words typed into a panel and not yet submitted: closing would throw them away. */
  function unsaved(slot) {
    return Array.prototype.some.call(slot.querySelectorAll("textarea, input[type=text], input:not([type])"), function (field) {
      return field.value !== field.defaultValue;
    });
  }

  function close(slotId) {
    var slot = document.getElementById(slotId);
    if (!slot || !slot.firstElementChild) return;
    if (unsaved(slot) && !window.confirm("Close this panel and discard what you typed?")) return;
    slot.replaceChildren();
    var label = labelFor(slotId);
    if (label) {
      label.setAttribute("aria-expanded", "false");
      label.focus();
    }
  }

  /* Should a click on a provision's line open its panel? Not when the click was a text selection
     (people copy words from the text), and not when the panel is open (then it closes). */
  function opening(line) {
    var selection = window.getSelection && window.getSelection();
    if (selection && !selection.isCollapsed && line.contains(selection.anchorNode)) return false;
    var slot = document.getElementById(line.getAttribute("data-panel"));
    if (!slot) return false;
    if (slot.firstElementChild) {
      close(slot.id);
      return false;
    }
    var label = labelFor(slot.id);
    if (label) label.setAttribute("aria-expanded", "true");
    return true;
  }

  window.rolltext = { opening: opening, close: close };

  /* Every HTMX request carries the session's CSRF token (the server refuses state changes
     without it); forms sent without JavaScript carry it as a hidden field. */
  document.addEventListener("htmx:configRequest", function (event) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) event.detail.headers["X-CSRF-Token"] = meta.getAttribute("content");
  });

  /* A panel listing more than a page of proposals says how many on its state (data-shown):
     every request from inside the panel (its live refresh, one-click actions, the propose,
     redraft and co-facilitators' forms) sends it, so that the state it gets back lists as
     many (the server's `Shown`). */
  document.addEventListener("htmx:configRequest", function (event) {
    var elt = event.detail.elt;
    var panel = elt && elt.closest && elt.closest(".panel, .queue-item");
    var state = panel && panel.querySelector(".state[data-shown]");
    if (state) event.detail.headers["X-Shown"] = state.getAttribute("data-shown");
    if (elt && elt.id === "queue") {
      /* the review queue, fetched again whole: what each of its paragraphs lists */
      var listed = [];
      elt.querySelectorAll(".state[data-shown]").forEach(function (each) {
        listed.push(each.id.replace("state-", "") + " " + each.getAttribute("data-shown"));
      });
      if (listed.length) event.detail.headers["X-Shown-Queue"] = listed.join(",");
    }
  });

  /* A provision's line opens its panel through a custom event (hx-trigger="rolltext:open"):
     an hx-trigger filter would need eval, which the Content-Security-Policy forbids. */
  document.addEventListener("click", function (event) {
    var line = event.target.closest && event.target.closest(".line-body[data-panel]");
    if (line && !event.target.closest("a, form, .panel-slot") && opening(line) && window.htmx) {
      window.htmx.trigger(line, "rolltext:open");
    }
  });

  document.addEventListener("click", function (event) {
    var closer = event.target.closest("[data-close-panel]");
    if (closer) close(closer.getAttribute("data-close-panel"));
    var clearer = event.target.closest("[data-clear]");
    if (clearer) {
      var target = document.getElementById(clearer.getAttribute("data-clear"));
      if (target) target.replaceChildren();
    }
  });

  /* Escape closes the panel you are in — but never from inside a field being edited. */
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || !event.target.closest) return;
    if (event.target.closest("textarea, input, select")) return;
    var slot = event.target.closest(".panel-slot");
    if (slot) close(slot.id);
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    var slot = event.detail.target;
    if (slot && slot.classList && slot.classList.contains("panel-slot")) {
      var title = slot.querySelector(".panel-title");
      if (title) title.focus({ preventScroll: true });
    }
  });

  /* The live stream refreshed a provision's state: forms still written on an older version say
     so (their words are kept; submitting them would be refused as a conflict). */
  document.addEventListener("htmx:afterSettle", function () {
    Array.prototype.forEach.call(document.querySelectorAll(".state[data-version]"), function (state) {
      var pid = state.id.replace("state-", "");
      var version = state.getAttribute("data-version");
      Array.prototype.forEach.call(document.querySelectorAll('[data-stale-for="' + pid + '"]'), function (note) {
        var field = note.closest("form") && note.closest("form").querySelector("input[name=expected_version]");
        var stale = field && field.value !== version;
        note.hidden = !stale;
        note.textContent = stale
          ? "The wording has changed since you opened this form (it is now version " + version +
            "). Your words are kept: read the current wording above before you submit."
          : "";
      });
    });
  });

  /* The outcome of your own click ("A-12 accepted.") must not vanish because the live stream,
     echoing that same change, re-fetched the provision's state a moment later: a notice shown
     less than 10 s ago is carried into the re-fetched state. */
  var keptNotices = {};
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    var config = event.detail.requestConfig;
    if (!target || !target.querySelectorAll || !config || config.verb !== "get") return;
    var states = target.matches(".state") ? [target] : target.querySelectorAll(".state[id]");
    Array.prototype.forEach.call(states, function (state) {
      var notice = state.querySelector(":scope > .notice[data-shown]");
      if (notice && Date.now() - Number(notice.getAttribute("data-shown")) < 10000) {
        keptNotices[state.id] = notice;
      }
    });
  });
  document.addEventListener("htmx:afterSettle", function () {
    Object.keys(keptNotices).forEach(function (id) {
      var state = document.getElementById(id);
      if (state && !state.querySelector(":scope > .notice")) state.prepend(keptNotices[id]);
      delete keptNotices[id];
    });
    Array.prototype.forEach.call(document.querySelectorAll(".state > .notice:not([data-shown])"), function (notice) {
      notice.setAttribute("data-shown", String(Date.now()));
    });
  });

  /* A line re-fetched by the live stream comes back "collapsed": tell the truth about its panel. */
  document.addEventListener("htmx:load", function (event) {
    var root = event.detail.elt;
    if (!root || !root.querySelectorAll) return;
    var labels = root.matches && root.matches(".line-label") ? [root] : root.querySelectorAll(".line-label");
    Array.prototype.forEach.call(labels, function (label) {
      var slot = document.getElementById(label.getAttribute("aria-controls"));
      label.setAttribute("aria-expanded", slot && slot.firstElementChild ? "true" : "false");
    });
  });
})();
