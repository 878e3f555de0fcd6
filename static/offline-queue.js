// Vrijbaan offline: registers the service worker, and keeps a visit recorded without a connection
// on the phone (IndexedDB) until the server has it — then it is deleted from the phone.
// The server stores a visit once per idempotency key, so sending it twice is harmless.
// Logging out answers with Clear-Site-Data, which wipes this queue as well: nothing personal stays
// on a phone after logout. So before logging out the queue is sent; if visits are still left (no
// connection, or refused ones kept to copy), the mediator is asked before they are wiped.
(function () {
  "use strict";
  const config = (document.currentScript && document.currentScript.dataset) || {};
  const DB_NAME = "vrijbaan-offline";
  const STORE = "visits";
  // The addresses come from the page (base.html), with {case} where a case's number goes.
  function pattern(template) {
    const parts = String(template || "").split("{case}").map(function (part) {
      return part.replace(/[.*+?^$()|[\]\\]/g, "\\$&");
    });
    return new RegExp("^" + parts.join("(\\d+)") + "$");
  }
  function address(template, caseId) {
    return String(template || "").split("{case}").join(caseId);
  }
  const VISIT_FORM_PATH = pattern(config.visitForm);
  const VISIT_POST_PATH = pattern(config.visitPost);

  // Its words come from the page too, in the page's language (base.html, #script-texts).
  function texts() {
    const island = document.getElementById("script-texts");
    try { return JSON.parse(island ? island.textContent : "{}").queue || {}; } catch (e) { return {}; }
  }
  let T = texts();
  function count(one, many, n) { return n === 1 ? one : String(many || "").split("{n}").join(n); }
  let queueSize = 0;

  function announce(text) {
    if (window.vrijbaanAnnounce) window.vrijbaanAnnounce(text);
  }

  // --- IndexedDB: one store of visits, keyed by their idempotency key ----------------------------
  function openDb() {
    return new Promise(function (resolve, reject) {
      const request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = function () {
        request.result.createObjectStore(STORE, { keyPath: "key" });
      };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  function withStore(mode, work) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        const transaction = db.transaction(STORE, mode);
        const request = work(transaction.objectStore(STORE));
        transaction.oncomplete = function () { db.close(); resolve(request.result); };
        transaction.onerror = transaction.onabort = function () { db.close(); reject(transaction.error); };
      });
    });
  }

  const allItems = function () { return withStore("readonly", function (s) { return s.getAll(); }); };
  const putItem = function (item) { return withStore("readwrite", function (s) { return s.put(item); }); };
  const removeItem = function (key) { return withStore("readwrite", function (s) { return s.delete(key); }); };

  // --- Small DOM helpers (text only: never HTML from stored data) --------------------------------
  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    (children || []).forEach(function (child) {
      if (child) node.append(child);
    });
    return node;
  }

  function localNow() {
    const now = new Date();
    now.setSeconds(0, 0);
    return new Date(now.getTime() - now.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
  }

  function newKey() {
    return crypto.randomUUID();
  }

  function whenLabel(value) {
    const date = new Date(value);
    if (isNaN(date.getTime())) return value || "";
    return date.toLocaleString(document.documentElement.lang || "nl", {
      weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit",
    });
  }

  // --- Whom a case is about: the client's first name, to label a queued visit -------------------
  // Pages shown online mark it (data-case + data-first-name); it is kept for this tab only
  // (sessionStorage) so that the offline form, which knows only the case number, can name them.
  const NAMES_KEY = "vrijbaan-case-names";

  function knownNames() {
    try { return JSON.parse(sessionStorage.getItem(NAMES_KEY) || "{}"); } catch (e) { return {}; }
  }

  function rememberNames() {
    const marks = document.querySelectorAll("[data-case][data-first-name]");
    if (!marks.length) return;
    const names = knownNames();
    marks.forEach(function (node) { names[node.dataset.case] = node.dataset.firstName; });
    try { sessionStorage.setItem(NAMES_KEY, JSON.stringify(names)); } catch (e) { /* full or off */ }
  }

  function caseName(caseId) {
    return knownNames()[caseId] || "";
  }

  // --- Putting a visit in the queue ---------------------------------------------------------------
  function postPath(form) {
    const raw = form.getAttribute("hx-post") || form.getAttribute("action") || "";
    const path = new URL(raw || location.href, location.href).pathname;
    if (VISIT_POST_PATH.test(path)) return path;
    const page = location.pathname.match(VISIT_FORM_PATH);
    return page ? address(config.visitPost, page[1]) : null;
  }

  function queueForm(form) {
    const path = postPath(form);
    if (!path) return Promise.resolve(null);
    const keyField = form.elements.namedItem("idempotency_key");
    if (keyField && !keyField.value) keyField.value = newKey();
    const fields = [];
    new FormData(form).forEach(function (value, name) {
      if (name !== "csrf_token" && typeof value === "string") fields.push([name, value]);
    });
    const checked = form.querySelector('[name="contact_type"]:checked');
    const select = form.querySelector('select[name="contact_type"]');
    let contactLabel = "";
    if (checked) contactLabel = (checked.closest("label") || {}).textContent || checked.value;
    else if (select && select.selectedOptions[0]) contactLabel = select.selectedOptions[0].textContent;
    const item = {
      key: keyField ? keyField.value : newKey(),
      action: path,
      caseId: path.match(VISIT_POST_PATH)[1],
      fields: fields,
      contactLabel: contactLabel.trim(),
      clientName: form.dataset.firstName || caseName(path.match(VISIT_POST_PATH)[1]),
      queuedAt: new Date().toISOString(),
      state: "pending",
    };
    return putItem(item).then(function () {
      // The notice below is the message (a status, focused): no second "Geen verbinding" toast.
      showQueued(form, item);
      return render();
    }).then(function () { return item; });
  }

  function showQueued(form, item) {
    const old = document.querySelector("[data-queued-key]");
    if (old) old.remove();
    const another = el("button", { type: "button", class: "button" }, [T.another]);
    const notice = el("div", { class: "notice warn queued", role: "status", tabindex: "-1", "data-queued-key": item.key }, [
      el("p", { "data-queued-text": "" }, [T.queued]),
      el("p", { class: "actions" }, [
        el("a", { class: "button", href: address(config.case, item.caseId) }, [T.backToCase]),
        another,
      ]),
    ]);
    // The offline form's own "Geen verbinding" line would say it a second time.
    const intro = document.querySelectorAll("[data-offline-intro]");
    intro.forEach(function (node) { node.hidden = true; });
    another.addEventListener("click", function () {
      notice.remove();
      intro.forEach(function (node) { node.hidden = false; });
      form.reset();
      const keyField = form.elements.namedItem("idempotency_key");
      if (keyField) keyField.value = newKey();
      const when = form.elements.namedItem("occurred_at");
      if (when) when.value = localNow();
      form.hidden = false;
      const first = form.querySelector("input:not([type=hidden]), select, textarea");
      if (first) first.focus();
    });
    form.hidden = true;
    form.before(notice);
    notice.focus();
  }

  // Offline at the moment of sending: keep it here instead of letting the request fail.
  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.matches("form[data-offline-queue]")) return;
    if (navigator.onLine && !form.hasAttribute("data-offline-shell")) return;
    if (!postPath(form)) return;  // editing a planned visit: not something the queue can replay
    event.preventDefault();
    event.stopImmediatePropagation();
    queueForm(form).then(function () { return sync(); });
  }, true);

  // Online on paper, but the request did not get through (a tunnel, a basement): keep it too.
  document.addEventListener("htmx:sendError", function (event) {
    const elt = event.detail && event.detail.elt;
    const form = elt && elt.closest ? elt.closest("form[data-offline-queue]") : null;
    if (form) queueForm(form);
  });

  // --- Sending -----------------------------------------------------------------------------------
  function pageToken() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    const stale = document.querySelector('meta[name="vrijbaan-offline-page"]');
    if (meta && meta.content && !stale) return Promise.resolve(meta.content);
    return freshToken();
  }

  function freshToken() {
    if (!config.token) return Promise.resolve("");
    return fetch(config.token, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : {}; })
      .then(function (data) { return data.csrf_token || ""; })
      .catch(function () { return ""; });
  }

  function send(item, token) {
    const body = new URLSearchParams(item.fields);
    body.set("csrf_token", token);
    return fetch(item.action, {
      method: "POST",
      credentials: "same-origin",
      redirect: "manual",
      headers: { Accept: "application/json", "X-CSRFToken": token },
      body: body,
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        const status = response.status;
        if ((status === 200 || status === 201) && (data.status === "created" || data.status === "duplicate")) {
          return removeItem(item.key).then(function () { return "sent"; });
        }
        if (status === 409 || status === 422 || status === 404) {
          item.state = "problem";
          item.problem = {
            status: status,
            message: data.message || (status === 422 ? T.invalid : T.notFound),
            errors: data.errors || {},
          };
          return putItem(item).then(function () { return "problem"; });
        }
        if (response.type === "opaqueredirect" || status === 401) return "login";
        if (status === 400) return "stale";
        return "failed";
      });
    }, function () { return "offline"; });
  }

  // The phone may say it is online a moment before its connection carries a request (or an
  // "online" event may come while a send is still failing, or the signal comes and goes): a
  // send that finds no network while the phone says it is online is tried again, a little
  // later each time, then every half minute for as long as something waits to be sent.
  const RETRY_DELAYS = [1000, 3000, 10000, 30000];
  let running = null;
  let retries = 0;
  let retryTimer = null;
  function sync() {
    if (!running) {
      clearTimeout(retryTimer);
      running = syncNow().catch(function () {}).then(function (stopped) {
        running = null;
        if (stopped === "offline" && navigator.onLine) {
          retryTimer = setTimeout(sync, RETRY_DELAYS[Math.min(retries, RETRY_DELAYS.length - 1)]);
          retries += 1;
        } else if (stopped !== "offline") {
          retries = 0;
        }
        return stopped;
      });
    }
    return running;
  }

  async function syncNow() {
    if (!navigator.onLine || !window.indexedDB) return;
    const pending = (await allItems()).filter(function (item) { return item.state === "pending"; });
    if (!pending.length) return;
    let token = await pageToken();
    let refreshed = false;
    let sent = 0;
    let problems = 0;
    let stopped = null;
    const sentKeys = [];
    const problemKeys = [];
    for (const item of pending) {
      let outcome = await send(item, token);
      if (outcome === "stale" && !refreshed) {
        refreshed = true;
        token = await freshToken();
        outcome = await send(item, token);
      }
      if (outcome === "sent") {
        sent += 1;
        sentKeys.push(item.key);
      } else if (outcome === "problem") {
        problems += 1;
        problemKeys.push(item.key);
      } else {
        stopped = outcome;
        break;
      }
    }
    await render();
    // The form's own "kept on your phone" notice now says what became of it.
    sentKeys.concat(problemKeys).forEach(function (key) {
      const notice = document.querySelector('[data-queued-key="' + key + '"] [data-queued-text]');
      if (notice) notice.textContent = sentKeys.indexOf(key) !== -1 ? T.sentHere : T.problems;
    });
    const messages = [];
    if (sent) messages.push(count(T.sentOne, T.sentMany, sent));
    if (problems) messages.push(T.problems);
    if (stopped === "login") messages.push(T.login);
    else if (stopped && stopped !== "offline") messages.push(T.failed);
    if (messages.length) announce(messages.join(" "));
    if (sent) document.dispatchEvent(new CustomEvent("vrijbaan:visits-sent", { detail: { keys: sentKeys } }));
    return stopped;
  }

  // --- What the mediator sees: "Nog te versturen" ------------------------------------------------
  function copyText(item) {
    return item.fields.filter(function (pair) { return pair[0] !== "idempotency_key" && pair[1] !== ""; })
      .map(function (pair) {
        const label = T.labels[pair[0]] || pair[0];
        let value = pair[1];
        if (pair[0] === "contact_type") value = item.contactLabel || value;
        if (pair[0] === "contact_made" || pair[0] === "planned") value = T.yes;
        if (pair[0] === "occurred_at") value = whenLabel(value);
        return label + ": " + value;
      }).join("\n");
  }

  function fieldValue(item, name) {
    const pair = item.fields.find(function (p) { return p[0] === name; });
    return pair ? pair[1] : "";
  }

  function renderItem(item) {
    const title = el("span", { class: "title" }, [
      (item.contactLabel || T.labels.contact_type) + " · " + (item.clientName || T.caseLabel + " " + item.caseId),
    ]);
    const meta = el("span", { class: "meta" }, [
      whenLabel(fieldValue(item, "occurred_at")) + " · " + (item.state === "problem" ? T.problem : T.pending),
    ]);
    const box = el("div", { class: "item" }, [title, meta]);
    if (item.state === "problem") {
      const id = "offline-text-" + item.key;
      const errors = Object.keys(item.problem.errors || {}).map(function (name) {
        return el("li", {}, [(T.labels[name] || name) + ": " + item.problem.errors[name]]);
      });
      const copy = el("button", { type: "button", class: "button small" }, [T.copy]);
      const remove = el("button", { type: "button", class: "button small" }, [T.remove]);
      const text = el("textarea", { id: id, readonly: "", rows: "5" }, []);
      text.value = copyText(item);
      copy.addEventListener("click", function () {
        text.select();
        const done = function () { announce(T.copied); };
        if (navigator.clipboard) navigator.clipboard.writeText(text.value).then(done, done);
        else done();
      });
      remove.addEventListener("click", function () {
        removeItem(item.key).then(render).then(function () {
          announce(T.removed);
          const main = document.getElementById("main");
          if (main) main.focus();
        });
      });
      [
        el("p", { class: "error" }, [item.problem.message]),
        errors.length ? el("ul", { class: "errors" }, errors) : null,
        el("div", { class: "field" }, [el("label", { for: id }, [T.copyLabel]), text]),
        el("p", { class: "actions" }, [
          copy,
          item.problem.status === 422
            ? el("a", { class: "button small", href: address(config.visitForm, item.caseId) }, [T.redo])
            : null,
          remove,
        ]),
      ].forEach(function (part) { if (part) box.append(part); });
    }
    return el("li", { class: item.state === "problem" ? "problem" : "pending" }, [box]);
  }

  async function render() {
    if (!window.indexedDB) return;
    const items = await allItems();
    queueSize = items.length;
    const main = document.getElementById("main");
    const old = document.getElementById("offline-queue");
    if (!items.length || !main) {
      if (old) old.remove();
      return;
    }
    const sendNow = el("button", { type: "button", class: "button small" }, [T.sendNow]);
    sendNow.addEventListener("click", function () { sync(); });
    const hasPending = items.some(function (item) { return item.state === "pending"; });
    const panel = el("section", { id: "offline-queue", class: "offline-queue", "aria-labelledby": "offline-queue-title" }, [
      el("h2", { id: "offline-queue-title" }, [T.title + " ", el("span", { class: "badge red" }, [String(items.length)])]),
      el("p", { class: "hint" }, [T.intro]),
      el("ul", { class: "list" }, items.map(renderItem)),
      hasPending ? el("p", { class: "actions" }, [sendNow]) : null,
    ]);
    if (old) old.replaceWith(panel);
    else main.prepend(panel);
  }

  // --- Logging out wipes the phone (Clear-Site-Data): never silently with unsent visits ---------
  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !config.logout || !queueSize) return;
    if (new URL(form.action, location.href).pathname !== config.logout) return;
    event.preventDefault();
    event.stopImmediatePropagation();
    sync().then(render).then(function () {
      if (!queueSize || window.confirm(count(T.logoutOne, T.logoutMany, queueSize))) form.submit();
    });
  }, true);

  // --- The generic offline visit form: the case id comes from the address ------------------------
  function initShell() {
    const form = document.querySelector("form[data-offline-shell]");
    if (!form) return;
    const match = location.pathname.match(VISIT_FORM_PATH);
    if (!match) {
      const missing = document.querySelector("[data-no-case]");
      if (missing) missing.hidden = false;
      return;
    }
    form.setAttribute("action", address(config.visitPost, match[1]));
    form.elements.namedItem("idempotency_key").value = newKey();
    form.elements.namedItem("occurred_at").value = localNow();
    document.querySelectorAll("[data-case-number]").forEach(function (node) { node.textContent = match[1]; });
    const name = caseName(match[1]);
    document.querySelectorAll("[data-client-name]").forEach(function (node) {
      node.textContent = name ? name + " ·" : "";
      node.hidden = !name;
    });
    document.querySelectorAll("[data-case-label]").forEach(function (node) { node.hidden = false; });
    form.hidden = false;
  }

  function start() {
    rememberNames();
    initShell();
    showConnection();
    if (window.indexedDB) render().then(sync).catch(function () {});
    if ("serviceWorker" in navigator && config.sw) {
      window.addEventListener("load", function () {
        navigator.serviceWorker.register(config.sw, { scope: "/" }).catch(function () {});
      });
    }
  }

  function showConnection() {
    document.querySelectorAll("[data-offline-badge]").forEach(function (badge) {
      badge.hidden = navigator.onLine;
    });
  }

  window.addEventListener("online", function () {
    showConnection();
    announce(T.online);
    retries = 0;
    sync();
  });
  window.addEventListener("offline", showConnection);

  // A boosted navigation replaced <main>: show the queue again and try to send it.
  document.addEventListener("htmx:afterSettle", function () {
    T = texts();
    rememberNames();
    if (queueSize && !document.getElementById("offline-queue")) render().then(sync);
  });

  start();
})();
