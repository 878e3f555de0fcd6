// Vrijbaan visit form: a tapped contact type fills in its usual duration and place, the closed
// "Wanneer, duur en plaats" says what it holds, and what is typed is kept on the phone as a draft
// (localStorage, per user, case and form) until it is saved or discarded — so a reload, a lost
// tab or a dead battery loses nothing. Logging out wipes the drafts (here, and Clear-Site-Data).
// Without JavaScript the form works as it is; this only adds.
(function () {
  "use strict";
  const PREFIX = "vrijbaan-draft:";
  const MAX_AGE = 7 * 24 * 3600 * 1000;  // an older draft is no longer what happened today
  const SKIP = { csrf_token: true };

  function storage() {
    try { return window.localStorage; } catch (e) { return null; }
  }

  function keyOf(form) { return PREFIX + form.dataset.draft; }

  function read(form) {
    const store = storage();
    if (!store) return null;
    try {
      const draft = JSON.parse(store.getItem(keyOf(form)) || "null");
      if (draft && Date.now() - draft.at < MAX_AGE) return draft;
    } catch (e) { /* a damaged draft is dropped below */ }
    store.removeItem(keyOf(form));
    return null;
  }

  function fields(form) {
    const pairs = [];
    new FormData(form).forEach(function (value, name) {
      if (!SKIP[name] && typeof value === "string") pairs.push([name, value]);
    });
    return pairs;
  }

  function save(form, submitted) {
    const store = storage();
    if (!store) return;
    try {
      store.setItem(keyOf(form), JSON.stringify({ at: Date.now(), submitted: !!submitted, fields: fields(form) }));
    } catch (e) { /* storage full or refused: the form still works */ }
  }

  function drop(form) {
    const store = storage();
    if (store) store.removeItem(keyOf(form));
  }

  function restore(form, draft) {
    const values = {};
    draft.fields.forEach(function (pair) { values[pair[0]] = pair[1]; });
    Array.prototype.forEach.call(form.elements, function (input) {
      if (!input.name || SKIP[input.name] || input.type === "button" || input.type === "submit") return;
      if (input.type === "radio") input.checked = values[input.name] === input.value;
      else if (input.type === "checkbox") input.checked = Object.prototype.hasOwnProperty.call(values, input.name);
      else if (Object.prototype.hasOwnProperty.call(values, input.name)) input.value = values[input.name];
    });
    const chosen = form.querySelector("details input[type=radio]:checked");
    if (chosen) chosen.closest("details").open = true;
    refresh(form);
  }

  function showRestored(form) {
    const notice = document.createElement("div");
    notice.className = "notice warn draft-notice";
    notice.setAttribute("role", "status");
    notice.setAttribute("data-draft-notice", "");
    const text = document.createElement("p");
    text.textContent = form.dataset.msgRestored || "";
    const discard = document.createElement("button");
    discard.type = "button";
    discard.className = "button small";
    discard.textContent = form.dataset.msgDiscard || "";
    discard.addEventListener("click", function () {
      drop(form);
      form.reset();
      refresh(form);
      notice.remove();
      if (window.vrijbaanAnnounce) window.vrijbaanAnnounce(form.dataset.msgDiscarded || "");
      const first = form.querySelector("input:not([type=hidden]), textarea");
      if (first) first.focus();
    });
    notice.append(text, discard);
    form.before(notice);
  }

  // --- What the closed "Wanneer, duur en plaats" shows, and the pressed duration chip -----------
  function refresh(form) {
    const get = function (name) { return form.elements.namedItem(name); };
    const parts = [];
    const when = get("occurred_at");
    const match = when && /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(when.value);
    if (match) parts.push(Number(match[3]) + "/" + Number(match[2]) + " " + match[4] + ":" + match[5]);
    const duration = get("duration_minutes");
    if (duration && duration.value) parts.push(duration.value + " min");
    const place = get("place");
    if (place && place.value.trim()) parts.push(place.value.trim());
    const planned = get("planned");
    if (planned && planned.checked && form.dataset.msgPlanned) parts.push(form.dataset.msgPlanned);
    const made = get("contact_made");
    if (made && !made.checked && form.dataset.msgNoContact) parts.push(form.dataset.msgNoContact);
    const summary = form.querySelector("[data-visit-summary]");
    if (summary) summary.textContent = parts.join(" · ");
    if (duration) {
      form.querySelectorAll('button[data-fill="duration_minutes"]').forEach(function (chip) {
        chip.setAttribute("aria-pressed", chip.dataset.value === duration.value ? "true" : "false");
      });
    }
  }

  // --- A tapped type fills in its usual duration and place, unless the mediator set them -------
  function applyDefaults(form, type) {
    if (!form.hasAttribute("data-fill-defaults")) return;
    let defaults = {};
    try { defaults = JSON.parse(form.dataset.typeDefaults || "{}"); } catch (e) { return; }
    const usual = defaults[type];
    if (!usual) return;
    const duration = form.elements.namedItem("duration_minutes");
    const place = form.elements.namedItem("place");
    if (duration && !duration.dataset.touched) duration.value = String(usual[0]);
    if (place && !place.dataset.touched) place.value = usual[1];
  }

  function init(form) {
    if (form.dataset.draftReady) return;
    form.dataset.draftReady = "1";
    const sentBack = document.querySelector(".error-summary, #visit-conflict, [role=alert].notice");
    const draft = read(form);
    if (sentBack) {
      // The server sent the form back with what was typed: that is now the draft.
      save(form, false);
    } else if (draft && draft.submitted) {
      drop(form);  // saved without htmx: the page that followed did not clear it
    } else if (draft) {
      restore(form, draft);
      showRestored(form);
    }
    refresh(form);

    form.addEventListener("input", function (event) {
      const target = event.target;
      if (event.isTrusted && (target.name === "duration_minutes" || target.name === "place")) {
        target.dataset.touched = "1";
      }
      refresh(form);
      save(form, false);
    });
    form.addEventListener("change", function (event) {
      if (event.target.name === "contact_type") applyDefaults(form, event.target.value);
      refresh(form);
      save(form, false);
    });
    // A duration chip is the mediator's choice too.
    form.addEventListener("click", function (event) {
      const chip = event.target.closest ? event.target.closest('button[data-fill="duration_minutes"]') : null;
      if (chip) form.elements.namedItem("duration_minutes").dataset.touched = "1";
    });
  }

  function initAll() {
    document.querySelectorAll("form[data-draft]").forEach(init);
  }

  // Sending: kept as "sent" until the server says it has it; offline, the queue takes it over.
  window.addEventListener("submit", function (event) {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.matches("form[data-draft]")) return;
    if (!navigator.onLine && form.matches("[data-offline-queue]")) drop(form);
    else save(form, true);
  }, true);

  function formOf(event) {
    const elt = event.detail && event.detail.elt;
    return elt && elt.closest ? elt.closest("form[data-draft]") : null;
  }

  document.addEventListener("htmx:afterRequest", function (event) {
    const form = formOf(event);
    const xhr = event.detail && event.detail.xhr;
    if (!form || !xhr) return;
    if (xhr.status >= 200 && xhr.status < 300) drop(form);
    else save(form, false);  // sent back or refused: keep it as a draft
  });
  document.addEventListener("htmx:sendError", function (event) {
    const form = formOf(event);
    if (form && form.matches("[data-offline-queue]")) drop(form);  // the offline queue has it
    else if (form) save(form, false);
  });

  // Logging out leaves nothing personal on the phone (Clear-Site-Data does so too, where the
  // browser supports it). When the offline queue first asks, it stops this event and submits
  // the form itself: the server's Clear-Site-Data then does it.
  document.addEventListener("submit", function (event) {
    const form = event.target;
    const logout = document.querySelector("script[data-logout]");
    if (!(form instanceof HTMLFormElement) || !logout) return;
    if (new URL(form.action, location.href).pathname !== logout.dataset.logout) return;
    const store = storage();
    if (!store) return;
    Object.keys(store).filter(function (key) { return key.indexOf(PREFIX) === 0; })
      .forEach(function (key) { store.removeItem(key); });
  });

  document.addEventListener("DOMContentLoaded", initAll);
  document.addEventListener("htmx:load", initAll);
  if (document.readyState !== "loading") initAll();
})();
