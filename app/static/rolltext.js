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

  window.rolltext = {
    /* The hx-trigger filter on a provision's line: open its panel, unless the click was a text
       selection (people copy words from the text) or the panel is open (then close it). */
    opening: function (line) {
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
    },
    close: close
  };

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
