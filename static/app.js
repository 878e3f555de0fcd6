// Vrijbaan: the few behaviours htmx needs from us (CSRF header, announcements, focus, errors).
(function () {
  "use strict";
  const status = () => document.getElementById("status");
  let clearTimer = null;

  function announce(text) {
    const region = status();
    if (!region || !text) return;
    region.textContent = "";
    // A fresh text node after a tick is announced by screen readers even when the text repeats.
    window.setTimeout(function () { region.textContent = text; }, 50);
    window.clearTimeout(clearTimer);
    clearTimer = window.setTimeout(function () { region.textContent = ""; }, 6000);
  }
  window.vrijbaanAnnounce = announce;

  // What the scripts say comes from the page, in its language (base.html, #script-texts).
  function texts() {
    const island = document.getElementById("script-texts");
    try { return JSON.parse(island ? island.textContent : "{}"); } catch (e) { return {}; }
  }

  document.addEventListener("htmx:configRequest", function (event) {
    const meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) event.detail.headers["X-CSRFToken"] = meta.content;
  });

  // Servers send {"announce": "text"} in HX-Trigger after an action.
  document.addEventListener("announce", function (event) {
    const detail = event.detail && (event.detail.value || event.detail);
    announce(typeof detail === "string" ? detail : "");
  });

  // After a swap, put the focus somewhere sensible: an element marked for it, else leave it.
  document.addEventListener("htmx:afterSettle", function (event) {
    const target = event.detail.elt;
    if (!target || !target.querySelector) return;
    const wanted = target.matches("[data-focus]") ? target : target.querySelector("[data-focus]");
    if (wanted) {
      if (!wanted.hasAttribute("tabindex") && !/^(A|BUTTON|INPUT|SELECT|TEXTAREA)$/.test(wanted.tagName)) {
        wanted.setAttribute("tabindex", "-1");
      }
      wanted.focus({ preventScroll: false });
    }
  });

  document.addEventListener("htmx:responseError", function (event) {
    const code = event.detail.xhr ? event.detail.xhr.status : 0;
    const said = texts();
    const messages = { 404: said.notFound, 403: said.forbidden, 400: said.badRequest };
    announce(messages[code] || said.error);
  });
  document.addEventListener("htmx:sendError", function () {
    const said = texts();
    announce(said.offline || said.error);
  });
})();

// Visits: quick-choice buttons (duration, due date) fill their field; the field alone also works.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    const button = event.target.closest ? event.target.closest("button[data-fill]") : null;
    if (!button) return;
    const input = document.getElementById(button.dataset.fill);
    if (!input) return;
    input.value = button.dataset.value;
    input.dispatchEvent(new Event("input", { bubbles: true }));
    button.parentElement.querySelectorAll("button[data-fill]").forEach(function (other) {
      other.setAttribute("aria-pressed", other === button ? "true" : "false");
    });
  });
})();

// Offer: the copy button next to a shared link (without JavaScript the readonly field remains).
(function () {
  "use strict";
  document.addEventListener("htmx:load", show);
  document.addEventListener("DOMContentLoaded", show);
  function show() {
    if (!navigator.clipboard) return;
    document.querySelectorAll("button[data-copy].hidden").forEach(function (b) { b.classList.remove("hidden"); });
  }
  document.addEventListener("click", function (event) {
    const button = event.target.closest ? event.target.closest("button[data-copy]") : null;
    if (!button) return;
    const input = document.getElementById(button.dataset.copy);
    if (!input) return;
    navigator.clipboard.writeText(input.value).then(function () {
      if (window.vrijbaanAnnounce) window.vrijbaanAnnounce(button.dataset.copied || "");
    }, function () { input.select(); });
  });
  document.addEventListener("focusin", function (event) {
    if (event.target.matches && event.target.matches("input[data-select-all]")) event.target.select();
  });
})();

// PWA/accessibility: when a swap took away the focused element (a form re-rendered with its
// errors), put the focus on the first field with an error, else on the error summary.
(function () {
  "use strict";
  document.addEventListener("htmx:afterSettle", function (event) {
    if (document.activeElement && document.activeElement !== document.body) return;
    const target = event.detail.elt;
    const scope = target && target.isConnected && target.querySelector ? target : document.getElementById("main");
    if (!scope) return;
    const wanted = scope.querySelector('[aria-invalid="true"]') || scope.querySelector(".error-summary");
    if (!wanted) return;
    if (!wanted.matches("input, select, textarea, button, a[href]")) wanted.setAttribute("tabindex", "-1");
    wanted.focus();
  });
})();

// Menus (<details class="menu">): one open at a time; Escape or a tap outside closes it.
// Without JavaScript the summary still opens and closes the menu.
(function () {
  "use strict";
  function openMenus() { return document.querySelectorAll("details.menu[open]"); }
  function closeOutside(event) {
    openMenus().forEach(function (menu) {
      if (!menu.contains(event.target)) menu.removeAttribute("open");
    });
  }
  // pointerdown: iOS sends no click for a tap on plain text; focusin: Tab out of the menu.
  document.addEventListener("pointerdown", closeOutside);
  document.addEventListener("focusin", closeOutside);
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    openMenus().forEach(function (menu) {
      const hadFocus = menu.contains(document.activeElement);
      menu.removeAttribute("open");
      if (hadFocus) menu.querySelector("summary").focus();
    });
  });
})();

// Offer: "Klaar, sluiten" takes a share panel away (its link stays valid); the focus goes to
// the card the panel was in, so a keyboard or screen reader user is not left on <body>.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    const button = event.target.closest ? event.target.closest("button[data-dismiss]") : null;
    if (!button) return;
    const panel = document.getElementById(button.dataset.dismiss);
    if (!panel) return;
    const home = panel.parentElement.closest(".card, section") || document.getElementById("main");
    panel.remove();
    const heading = home.querySelector("h2, h3") || home;
    heading.setAttribute("tabindex", "-1");
    heading.focus();
  });
})();
