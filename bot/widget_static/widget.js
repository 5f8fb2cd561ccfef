/* tasktalk web widget: chat, task list, live Progress View and browser notifications.
 *
 * Plain JavaScript, no build step. Embed on any page with
 *   <script src="https://HOST/widget.js" defer></script>
 * and it talks to HOST (the script's own origin); the page must be listed in HOST's
 * server.allowed_origins. Options, as data- attributes on the script tag:
 *   data-mode="page"     fill data-mount (the full page at HOST/ uses this)
 *   data-mount="#id"     where to draw (default: a floating panel with a launcher button)
 *   data-title="Tasks"   the heading
 * Every piece of server text goes in with textContent, never innerHTML.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || !script.src) return;
  var BASE = new URL(script.src, location.href).origin;
  var OPTS = {
    mode: script.getAttribute("data-mode") || "embed",
    mount: script.getAttribute("data-mount"),
    title: script.getAttribute("data-title") || "tasktalk",
  };
  var TOKEN_KEY = "tasktalk:token:" + BASE;

  // --- words -----------------------------------------------------------------------------
  var SYMBOLS = {
    done: "✓", running: "◐", pending: "○", attention: "⚠",
    failed: "✕", paused: "⏸", skipped: "○", cancelled: "✕",
  };
  var LABELS = {
    done: "", running: " (in progress)", pending: " (pending)", attention: " (needs approval)",
    failed: " (failed)", paused: " (paused)", skipped: " (skipped)", cancelled: " (cancelled)",
  };
  var ACTION_LABELS = {
    pause: "Pause", resume: "Resume", cancel: "Cancel", approve: "Approve", reject: "Reject",
    retry: "Retry", skip: "Skip",
  };
  var STATUS_MARK = {
    completed: "✓", running: "◐", pending: "○", approval: "⚠",
    failed: "✕", paused: "⏸", cancelled: "✕",
  };
  var EVENT_WORDS = {
    task_created: "created",
    task_started: "started",
    progress: "progress",
    step_started: "step started",
    step_complete: "step complete",
    step_failed: "step failed",
    step_skipped: "step skipped",
    step_retried: "step retried",
    approval_needed: "approval needed",
    step_approved: "step approved",
    step_rejected: "step rejected",
    task_paused: "paused",
    task_resumed: "resumed",
    task_complete: "complete",
    task_failed: "failed",
    task_cancelled: "cancelled",
    task_restarted: "restarted",
    step_slow: "step running slow",
  };
  var DEFAULT_WEB_EVENTS = ["approval_needed", "task_complete", "task_failed"];

  // --- the Progress View, as bot/progress_view.py builds it ----------------------------------
  var ACTIVE_MARK = {
    running: "running", paused: "paused", approval: "attention",
    failed: "failed", cancelled: "cancelled",
  };
  var DONE_STEPS = { completed: true, skipped: true };
  var TERMINAL = { completed: true, cancelled: true };
  var PAUSABLE = { pending: true, running: true, approval: true, failed: true };

  function span(h, m, s) { return { hours: h || 0, minutes: m || 0, seconds: s || 0 }; }
  function isZero(sp) { return !(sp.hours || sp.minutes || sp.seconds); }

  function elapsedSpan(seconds) {
    var whole = Math.floor(seconds);
    if (whole < 10) return span();
    if (whole < 60) return span(0, 0, whole);
    var minutes = Math.floor(whole / 60);
    return span(Math.floor(minutes / 60), minutes % 60);
  }

  function estimateSpan(seconds) {
    if (seconds <= 0) return span();
    if (seconds < 55) return span(0, 0, Math.max(10, Math.floor(seconds / 10 + 0.5) * 10));
    var minutes = Math.max(1, Math.floor(seconds / 60 + 0.5));
    return span(Math.floor(minutes / 60), minutes % 60);
  }

  function durationSpan(seconds) {
    if (seconds < 60) return span(0, 0, Math.max(1, Math.floor(seconds + 0.5)));
    var minutes = Math.floor(seconds / 60 + 0.5);
    return span(Math.floor(minutes / 60), minutes % 60);
  }

  function spanText(sp) {
    if (sp.hours) return sp.hours + " h" + (sp.minutes ? " " + sp.minutes + " min" : "");
    if (sp.minutes) return sp.minutes + " min";
    return sp.seconds + " s";
  }
  function agoText(sp) { return isZero(sp) ? "just now" : spanText(sp) + " ago"; }
  function remainingText(sp) {
    if (!sp) return "unknown";
    if (isZero(sp)) return "any moment now";
    if (sp.hours || sp.minutes) return spanText(sp) + " remaining";
    return "about " + spanText(sp) + " remaining";
  }

  function parseTime(value) {
    if (typeof value !== "string" || !value) return null;
    var t = Date.parse(value);
    return isNaN(t) ? null : t;
  }

  function substepLines(step) {
    var substeps = step.substeps || [];
    var active = ACTIVE_MARK[step.status] || null;
    var explicit = substeps.some(function (s) { return s.status === "running"; });
    var claimed = false;
    return substeps.map(function (sub) {
      var status = sub.status || (sub.done ? "completed" : "pending");
      var mark;
      if (sub.done || status === "completed") mark = "done";
      else if (status === "skipped") mark = "skipped";
      else if (status === "failed") mark = "failed";
      else if (active && (status === "running" || !(explicit || claimed))) {
        mark = active;
        claimed = true;
      } else mark = "pending";
      return { name: String(sub.name || ""), mark: mark };
    });
  }

  function allowedActions(status) {
    var actions = [];
    if (PAUSABLE[status]) actions.push("pause");
    if (status === "paused") actions.push("resume");
    if (STATUS_MARK[status] && !TERMINAL[status]) actions.push("cancel");
    return actions;
  }

  function buildView(doc, now) {
    var status = String(doc.status || "");
    var percent = Math.max(0, Math.min(100, Math.floor(Number(doc.progress) || 0)));
    var steps = doc.steps || [];
    var order = doc.current_step;
    if (status === "cancelled") {
      var stopped = steps.filter(function (s) { return s.status === "cancelled"; })[0];
      if (stopped) order = stopped.order;
    }
    var step = order ? steps.filter(function (s) { return s.order === order; })[0] : null;
    var started = parseTime(doc.started_at);
    var live = status === "pending" || status === "running";
    var took = null;
    if (status === "completed") {
      if (typeof doc.duration_ms === "number") took = durationSpan(doc.duration_ms / 1000);
      else {
        var finished = parseTime(doc.finished_at);
        if (started !== null && finished !== null) took = durationSpan((finished - started) / 1000);
      }
    }
    var waiting = steps.filter(function (s) { return s.status === "approval"; })[0] || null;
    var failed = steps.filter(function (s) { return s.status === "failed"; })[0] || null;
    return {
      taskId: String(doc.task_id || ""),
      title: String(doc.title || ""),
      status: status,
      percent: percent,
      totalSteps: Number(doc.total_steps) || steps.length,
      stepsDone: steps.filter(function (s) { return DONE_STEPS[s.status]; }).length,
      step: step ? step.order : null,
      stepName: step ? String(step.name || "") : null,
      substeps: step ? substepLines(step) : [],
      started: started !== null ? elapsedSpan((now - started) / 1000) : null,
      eta: live && doc.eta_seconds !== null && doc.eta_seconds !== undefined
        ? estimateSpan(doc.eta_seconds) : null,
      took: took,
      error: step && step.error ? String(step.error) : null,
      cancelledBy: doc.cancelled_by ? String(doc.cancelled_by) : null,
      nextTaskId: doc.next_task_id ? String(doc.next_task_id) : null,
      actions: allowedActions(status),
      waiting: waiting && status !== "paused" && !TERMINAL[status] ? waiting.order : null,
      failedStep: failed && status === "failed" ? failed.order : null,
    };
  }

  function stateLine(view) {
    if (view.status === "completed") {
      return "✓ Finished" + (view.took ? " in " + spanText(view.took) : "");
    }
    if (view.status === "cancelled") {
      return "✕ Cancelled" + (view.cancelledBy ? " by " + view.cancelledBy : "") +
        (view.nextTaskId ? "; restarted as task " + view.nextTaskId : "");
    }
    if (view.status === "failed") {
      return "✕ Step " + view.step + " failed" + (view.error ? ": " + view.error : "");
    }
    if (view.status === "approval") {
      return "⚠ Waiting for your approval: Step " + view.step + " " + view.stepName;
    }
    if (view.status === "paused") return "⏸ Paused";
    return "ETA: " + remainingText(view.eta);
  }

  // --- small DOM helpers -------------------------------------------------------------------
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (key) {
        var value = attrs[key];
        if (value === null || value === undefined || value === false) return;
        if (key === "text") node.textContent = value;
        else if (key === "className") node.className = value;
        else if (key.slice(0, 2) === "on") node.addEventListener(key.slice(2), value);
        else node.setAttribute(key, value === true ? "" : String(value));
      });
    }
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }

  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

  // --- the widget ----------------------------------------------------------------------------
  function Widget() {
    this.token = null;
    this.user = null;
    this.tasks = {}; // task_id -> progress document
    this.order = []; // task ids, newest first
    this.selected = null;
    this.lastSeq = null; // highest event seq applied
    this.ready = false; // the task list is loaded
    this.pending = []; // events that arrived while the list was loading
    this.socket = null;
    this.retries = 0;
    this.reconnectTimer = null;
    this.refreshing = {}; // task_id -> {seq, again}
    this.webSubscriptions = [];
    this.announced = {}; // task_id -> the last tenth of progress announced
    this.stopped = false;
  }

  Widget.prototype.start = function () {
    this.draw();
    var self = this;
    setInterval(function () { self.renderProgress(); }, 15000);
    var code = loginCodeFromHash();
    if (code) {
      this.exchangeCode(code);
      return;
    }
    var stored = null;
    try { stored = localStorage.getItem(TOKEN_KEY); } catch (e) { stored = null; }
    if (stored) this.signIn(stored, false);
    else this.showSignIn("");
  };

  function loginCodeFromHash() {
    var match = /^#login=([A-Za-z0-9_-]{10,100})$/.exec(location.hash);
    if (!match) return null;
    // The code works once: drop it from the address bar and history straight away.
    history.replaceState(null, "", location.pathname + location.search);
    return match[1];
  }

  Widget.prototype.draw = function () {
    var self = this;
    var href = BASE + "/widget.css";
    var present = Array.prototype.some.call(document.querySelectorAll("link[rel=stylesheet]"),
      function (link) { return link.href === href; });
    if (!present) document.head.appendChild(el("link", { rel: "stylesheet", href: href }));
    var host;
    if (OPTS.mount) host = document.querySelector(OPTS.mount);
    var floating = !host;
    this.root = el("section", {
      className: "tt-root" + (floating ? " tt-floating" : " tt-page"),
      "aria-label": OPTS.title,
    });
    if (floating) {
      this.launcher = el("button", {
        type: "button", className: "tt-launcher", "aria-expanded": "false",
        text: OPTS.title,
        onclick: function () { self.toggle(); },
      });
      this.root.hidden = true;
      this.root.addEventListener("keydown", function (e) {
        if (e.key === "Escape") { self.toggle(false); self.launcher.focus(); }
      });
      document.body.appendChild(this.launcher);
      document.body.appendChild(this.root);
    } else {
      host.appendChild(this.root);
    }

    this.connection = el("span", { className: "tt-connection", role: "status", text: "" });
    this.notifyButton = el("button", {
      type: "button", className: "tt-secondary", text: "Turn on notifications", hidden: true,
      onclick: function () { self.enableNotifications(); },
    });
    this.signOutButton = el("button", {
      type: "button", className: "tt-secondary", text: "Sign out", hidden: true,
      onclick: function () { self.signOut(); },
    });
    this.who = el("span", { className: "tt-who" });
    var header = el("header", { className: "tt-header" }, [
      el("h1", { className: "tt-title", text: OPTS.title }),
      this.who, this.connection, this.notifyButton, this.signOutButton,
    ]);

    // Sign-in
    this.tokenInput = el("input", {
      id: "tt-token", type: "password", autocomplete: "off", spellcheck: "false",
      className: "tt-input", "aria-describedby": "tt-token-help",
    });
    this.signInError = el("p", { className: "tt-error", role: "alert" });
    this.signInForm = el("form", {
      className: "tt-signin", hidden: true,
      onsubmit: function (e) {
        e.preventDefault();
        var value = self.tokenInput.value.trim();
        if (value) self.signIn(value, true);
      },
    }, [
      el("label", { for: "tt-token", text: "API token" }),
      el("p", {
        id: "tt-token-help", className: "tt-help",
        text: "Paste a token from “tasktalk token create USER”, or open a sign-in link " +
          "from “tasktalk token create USER --link”.",
      }),
      el("div", { className: "tt-row" }, [
        this.tokenInput,
        el("button", { type: "submit", text: "Sign in" }),
      ]),
      this.signInError,
    ]);

    // Tasks
    this.taskList = el("ul", { className: "tt-tasks", "aria-label": "Your tasks" });
    this.progress = el("div", { className: "tt-progress-area" });
    this.announcer = el("div", {
      className: "tt-visually-hidden", role: "status", "aria-live": "polite",
      "aria-label": "Progress updates",
    });
    this.activity = el("ol", {
      className: "tt-activity", role: "log", "aria-live": "polite", "aria-label": "Updates",
    });
    var tasksSection = el("section", { className: "tt-tasks-section", "aria-label": "Tasks" }, [
      el("h2", { className: "tt-heading", text: "Tasks" }),
      this.taskList,
      this.progress,
      el("details", { className: "tt-activity-box" }, [
        el("summary", { text: "Updates" }),
        this.activity,
      ]),
      this.announcer,
    ]);

    // Chat
    this.chatLog = el("div", {
      className: "tt-chat-log", role: "log", "aria-live": "polite", "aria-label": "Chat",
      tabindex: "0",
    });
    this.chatInput = el("input", {
      id: "tt-chat-input", type: "text", className: "tt-input", autocomplete: "off",
      placeholder: "How’s my CRM task going?", maxlength: "2000",
    });
    this.chatForm = el("form", {
      className: "tt-chat-form",
      onsubmit: function (e) {
        e.preventDefault();
        var text = self.chatInput.value.trim();
        if (!text) return;
        self.chatInput.value = "";
        self.say(text);
      },
    }, [
      el("label", { for: "tt-chat-input", className: "tt-visually-hidden", text: "Message" }),
      this.chatInput,
      el("button", { type: "submit", text: "Send" }),
    ]);
    var chatSection = el("section", { className: "tt-chat", "aria-label": "Chat" }, [
      el("h2", { className: "tt-heading", text: "Chat" }),
      this.chatLog,
      this.chatForm,
    ]);

    this.main = el("div", { className: "tt-main", hidden: true }, [tasksSection, chatSection]);
    this.root.appendChild(header);
    this.root.appendChild(this.signInForm);
    this.root.appendChild(this.main);
  };

  Widget.prototype.toggle = function (open) {
    if (!this.launcher) return;
    var show = open === undefined ? this.root.hidden : open;
    this.root.hidden = !show;
    this.launcher.setAttribute("aria-expanded", show ? "true" : "false");
    if (show) (this.token ? this.chatInput : this.tokenInput).focus();
  };

  // --- HTTP ------------------------------------------------------------------------------------
  Widget.prototype.api = function (method, path, body) {
    var self = this;
    var headers = { Accept: "application/json" };
    if (this.token) headers.Authorization = "Bearer " + this.token;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    return fetch(BASE + path, {
      method: method,
      headers: headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      mode: "cors",
      credentials: "omit",
    }).then(function (response) {
      return response.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
        if (response.status === 401 && self.token && path !== "/api/session") {
          self.signOut("Your token is no longer valid; sign in again.");
        }
        if (!response.ok) {
          var message = data && data.error && data.error.message;
          var error = new Error(message || "The server answered " + response.status + ".");
          error.status = response.status;
          throw error;
        }
        return data;
      });
    });
  };

  // --- sign-in -------------------------------------------------------------------------------
  Widget.prototype.exchangeCode = function (code) {
    var self = this;
    this.showSignIn("Signing in…");
    this.api("POST", "/api/session", { code: code }).then(function (data) {
      self.signIn(data.token, true);
    }, function (error) {
      self.showSignIn(error.status === 401
        ? "That sign-in link was already used or has expired. Ask for a new one."
        : error.message);
    });
  };

  Widget.prototype.signIn = function (token, remember) {
    var self = this;
    this.token = token;
    this.api("GET", "/api/me").then(function (me) {
      if (remember) {
        try { localStorage.setItem(TOKEN_KEY, token); } catch (e) { /* private mode */ }
      }
      self.user = me;
      self.tokenInput.value = "";
      self.signInForm.hidden = true;
      self.main.hidden = false;
      self.signOutButton.hidden = false;
      self.who.textContent = me.name;
      self.updateNotifyButton();
      self.loadSubscriptions();
      self.connect();
    }, function (error) {
      self.token = null;
      self.showSignIn(error.status === 401 ? "That token is not valid." : error.message);
    });
  };

  Widget.prototype.showSignIn = function (message) {
    this.signInForm.hidden = false;
    this.main.hidden = true;
    this.signOutButton.hidden = true;
    this.notifyButton.hidden = true;
    this.who.textContent = "";
    this.signInError.textContent = message || "";
  };

  Widget.prototype.signOut = function (message) {
    try { localStorage.removeItem(TOKEN_KEY); } catch (e) { /* private mode */ }
    this.token = null;
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    if (this.socket) this.socket.close(1000, "signed out");
    this.socket = null;
    this.connection.textContent = "";
    // Nothing of this person's stays on screen for the next one.
    this.tasks = {};
    this.order = [];
    this.selected = null;
    this.lastSeq = null;
    this.ready = false;
    this.pending = [];
    this.webSubscriptions = [];
    clear(this.taskList);
    clear(this.progress);
    clear(this.activity);
    clear(this.chatLog);
    this.showSignIn(message || "");
  };

  // --- live updates --------------------------------------------------------------------------
  Widget.prototype.connect = function () {
    var self = this;
    this.stopped = false;
    clearTimeout(this.reconnectTimer);
    var url = BASE.replace(/^http/, "ws") + "/ws/tasks?token=" + encodeURIComponent(this.token);
    if (this.lastSeq !== null) url += "&since=" + this.lastSeq;
    var socket = new WebSocket(url);
    this.socket = socket;
    this.setConnection(this.lastSeq === null ? "Connecting…" : "Reconnecting…");
    socket.onmessage = function (message) {
      if (socket !== self.socket) return;
      var data;
      try { data = JSON.parse(message.data); } catch (e) { return; }
      if (data.type === "ready") self.onReady(data);
      else self.receive(data);
    };
    socket.onclose = function () {
      if (socket !== self.socket) return;
      self.socket = null;
      if (self.stopped) return;
      var delay = Math.min(15000, 500 * Math.pow(2, self.retries));
      delay = delay / 2 + Math.random() * delay / 2;
      self.retries += 1;
      self.setConnection("Offline; reconnecting…");
      self.reconnectTimer = setTimeout(function () { self.connect(); }, delay);
    };
  };

  Widget.prototype.setConnection = function (text) {
    this.connection.textContent = text;
    this.root.setAttribute("data-connection", text === "Live" ? "live" : "offline");
  };

  Widget.prototype.onReady = function (data) {
    this.retries = 0;
    this.setConnection("Live");
    var first = this.lastSeq === null;
    this.lastSeq = Math.max(this.lastSeq || 0, data.seq);
    if (first) this.loadTasks();
  };

  Widget.prototype.receive = function (event) {
    if (typeof event.seq !== "number") return;
    if (!this.ready) { this.pending.push(event); return; }
    this.apply(event);
  };

  /* Events come in seq order, once each: a replay after a reconnect starts above the
   * last one applied, and anything at or below it is a repeat. */
  Widget.prototype.apply = function (event) {
    if (this.lastSeq !== null && event.seq <= this.lastSeq) return;
    this.lastSeq = event.seq;
    var doc = this.tasks[event.task_id];
    if (!doc) {
      this.fetchTask(event.task_id, true);
    } else {
      applyEventToDocument(doc, event);
      var reading = this.refreshing[event.task_id];
      if (reading) reading.events.push(event);
      this.refresh(event.task_id);
    }
    this.logActivity(event);
    this.notify(event);
    this.renderTasks();
    this.renderProgress();
  };

  function applyEventToDocument(doc, event) {
    if (event.title) doc.title = event.title;
    if (event.status) doc.status = event.status;
    if (typeof event.percent === "number") doc.progress = event.percent;
    if ("current_step" in event) doc.current_step = event.current_step;
    if (typeof event.total_steps === "number") doc.total_steps = event.total_steps;
    if ("eta_seconds" in event) doc.eta_seconds = event.eta_seconds;
    if (event.type === "task_paused") doc.paused = true;
    if (event.type === "task_resumed") doc.paused = false;
    if (typeof event.step === "number" && doc.steps) {
      var step = doc.steps.filter(function (s) { return s.order === event.step; })[0];
      if (step) {
        if (event.step_status) step.status = event.step_status;
        if (typeof event.step_percent === "number") step.progress = event.step_percent;
        if (event.step_name) step.name = event.step_name;
        if (event.error) step.error = event.error;
      }
    }
    if (!doc.started_at && event.type === "task_started") doc.started_at = event.at;
  }

  /* Events carry what the bar and the step line need; substeps, times and the estimate
   * come with the task's progress document, read again (at most one read at a time). */
  Widget.prototype.refresh = function (taskId) {
    var state = this.refreshing[taskId];
    if (state) { state.again = true; return; }
    var self = this;
    state = this.refreshing[taskId] = { again: false, events: [] };
    setTimeout(function () {
      self.api("GET", "/api/tasks/" + encodeURIComponent(taskId) + "/progress").then(
        function (doc) {
          var later = state.events;
          self.tasks[taskId] = doc;
          later.forEach(function (e) { applyEventToDocument(doc, e); });
          self.renderTasks();
          self.renderProgress();
        },
        function () { /* gone or offline: the next event tries again */ }
      ).then(function () {
        delete self.refreshing[taskId];
        if (state.again) self.refresh(taskId);
      });
    }, 150);
  };

  Widget.prototype.fetchTask = function (taskId, select) {
    var self = this;
    return this.api("GET", "/api/tasks/" + encodeURIComponent(taskId) + "/progress").then(
      function (doc) {
        if (!self.tasks[taskId]) self.order.unshift(taskId);
        self.tasks[taskId] = doc;
        var current = self.selected && self.tasks[self.selected];
        // A new task comes to the front unless a live one is already on screen.
        if (select && (!current || TERMINAL[current.status])) self.selected = taskId;
        if (!self.selected) self.selected = taskId;
        self.renderTasks();
        self.renderProgress();
      },
      function () {}
    );
  };

  Widget.prototype.loadTasks = function () {
    var self = this;
    this.api("GET", "/api/tasks").then(function (list) {
      self.tasks = {};
      self.order = [];
      (list || []).forEach(function (doc) {
        self.tasks[doc.task_id] = doc;
        self.order.push(doc.task_id);
      });
      if (!self.selected || !self.tasks[self.selected]) self.selected = pickTask(list || []);
      self.ready = true;
      var waiting = self.pending;
      self.pending = [];
      waiting.forEach(function (event) { self.apply(event); });
      self.renderTasks();
      self.renderProgress();
    }, function (error) {
      if (!self.token) return;
      self.say(null, "Could not load your tasks (" + error.message + "); trying again.");
      setTimeout(function () { if (self.token && !self.ready) self.loadTasks(); }, 3000);
    });
  };

  function pickTask(list) {
    var live = list.filter(function (d) { return !TERMINAL[d.status]; })[0];
    return (live || list[0] || {}).task_id || null;
  }

  // --- rendering -----------------------------------------------------------------------------
  Widget.prototype.renderTasks = function () {
    var self = this;
    clear(this.taskList);
    if (!this.order.length) {
      this.taskList.appendChild(el("li", { className: "tt-empty", text: "No tasks yet." }));
      return;
    }
    this.order.forEach(function (id) {
      var doc = self.tasks[id];
      var current = id === self.selected;
      var button = el("button", {
        type: "button", className: "tt-task", "aria-current": current ? "true" : null,
        "data-task-id": id,
        onclick: function () { self.selected = id; self.renderTasks(); self.renderProgress(); },
      }, [
        el("span", { className: "tt-task-mark", "aria-hidden": "true",
          text: STATUS_MARK[doc.status] || "○" }),
        el("span", { className: "tt-task-title", text: doc.title }),
        el("span", { className: "tt-task-meta", text: doc.status + " · " + doc.progress + "%" }),
      ]);
      self.taskList.appendChild(el("li", null, [button]));
    });
  };

  Widget.prototype.renderProgress = function () {
    var doc = this.selected ? this.tasks[this.selected] : null;
    var focused = document.activeElement;
    var focusedAction = focused && focused.getAttribute && this.progress.contains(focused)
      ? focused.getAttribute("data-action") : null;
    clear(this.progress);
    if (!doc) return;
    var view = buildView(doc, Date.now());
    var self = this;
    var article = el("article", {
      className: "tt-progress", "data-task-id": view.taskId, "data-status": view.status,
      "aria-labelledby": "tt-progress-title",
    });
    article.appendChild(el("h3", { id: "tt-progress-title", className: "tt-progress-title",
      text: view.title }));
    var bar = el("div", {
      className: "tt-bar", role: "progressbar", "aria-valuemin": "0", "aria-valuemax": "100",
      "aria-valuenow": String(view.percent), "aria-label": "Progress of " + view.title,
    }, [el("div", { className: "tt-bar-fill", style: "width: " + view.percent + "%" })]);
    article.appendChild(el("div", { className: "tt-bar-row" }, [
      bar, el("span", { className: "tt-percent", text: view.percent + "%" }),
    ]));
    var stepText = view.step
      ? "Step " + view.step + " of " + view.totalSteps + ": " + view.stepName
      : view.stepsDone + " of " + view.totalSteps + " steps done";
    article.appendChild(el("p", { className: "tt-step", text: stepText }));
    if (view.substeps.length) {
      var list = el("ul", { className: "tt-substeps" });
      view.substeps.forEach(function (sub) {
        list.appendChild(el("li", { className: "tt-substep", "data-mark": sub.mark }, [
          el("span", { className: "tt-substep-name", text: sub.name }),
          el("span", { className: "tt-mark tt-mark-" + sub.mark, text: " " + SYMBOLS[sub.mark] }),
          el("span", { className: "tt-mark-label", text: LABELS[sub.mark] }),
        ]));
      });
      article.appendChild(list);
    }
    article.appendChild(el("p", { className: "tt-started",
      text: view.started ? "Started: " + agoText(view.started) : "Not started yet" }));
    article.appendChild(el("p", { className: "tt-state", text: stateLine(view) }));
    var actions = el("div", { className: "tt-actions" });
    view.actions.forEach(function (action) {
      actions.appendChild(self.actionButton(action, view.taskId, null));
    });
    if (view.waiting) {
      actions.appendChild(self.actionButton("approve", view.taskId, view.waiting));
      actions.appendChild(self.actionButton("reject", view.taskId, view.waiting));
    }
    if (view.failedStep) {
      actions.appendChild(self.actionButton("retry", view.taskId, view.failedStep));
      actions.appendChild(self.actionButton("skip", view.taskId, view.failedStep));
    }
    article.appendChild(actions);
    article.appendChild(el("p", { className: "tt-error", role: "alert", "data-role": "error" }));
    this.progress.appendChild(article);
    if (focusedAction) {
      var again = article.querySelector('[data-action="' + focusedAction + '"]');
      (again || article.querySelector("button") || this.chatInput).focus();
    }
  };

  Widget.prototype.actionButton = function (action, taskId, step) {
    var self = this;
    var label = ACTION_LABELS[action] + (step ? " step " + step : "");
    return el("button", {
      type: "button", className: "tt-action tt-action-" + action, "data-action": action,
      "aria-label": step ? label : null, text: ACTION_LABELS[action],
      onclick: function (e) { self.act(action, taskId, step, e.currentTarget); },
    });
  };

  Widget.prototype.act = function (action, taskId, step, button) {
    var self = this;
    var path = "/api/tasks/" + encodeURIComponent(taskId) +
      (step ? "/steps/" + step : "") + "/" + action;
    if (button) button.disabled = true;
    this.api("POST", path, action === "reject" ? {} : undefined).then(function (doc) {
      if (doc && doc.task_id) {
        var later = self.tasks[taskId];
        // Events may already be newer than this answer; take the answer only when it is.
        if (!later || (parseTime(doc.updated_at) || 0) >= (parseTime(later.updated_at) || 0)) {
          self.tasks[taskId] = doc;
        }
      }
      self.renderTasks();
      self.renderProgress();
    }, function (error) {
      if (button) button.disabled = false;
      var box = self.progress.querySelector('[data-role="error"]');
      if (box) box.textContent = error.message;
    });
  };

  Widget.prototype.logActivity = function (event) {
    var doc = this.tasks[event.task_id];
    var title = event.title || (doc && doc.title) || event.task_id;
    var words = EVENT_WORDS[event.type] || event.type;
    var detail = "";
    if (event.type === "progress") detail = " " + event.percent + "%";
    else if (event.step && event.step_name) detail = ": Step " + event.step + " " + event.step_name;
    var item = el("li", { "data-seq": String(event.seq), "data-type": event.type,
      text: title + " — " + words + detail });
    this.activity.insertBefore(item, this.activity.firstChild);
    while (this.activity.childNodes.length > 200) this.activity.removeChild(this.activity.lastChild);
    if (event.type !== "progress") {
      this.announcer.textContent = title + ": " + words + detail;
    } else {
      // Progress is announced every 10 points, not on every report.
      var tenth = Math.floor((event.percent || 0) / 10);
      if (tenth > (this.announced[event.task_id] || 0)) {
        this.announced[event.task_id] = tenth;
        this.announcer.textContent = title + ": " + event.percent + "%";
      }
    }
  };

  // --- chat ----------------------------------------------------------------------------------
  Widget.prototype.say = function (text, notice) {
    var self = this;
    if (notice) { this.addMessage("bot", notice, []); return; }
    this.addMessage("you", text, []);
    this.api("POST", "/api/chat", { text: text }).then(function (data) {
      self.showReplies(data);
    }, function (error) {
      self.addMessage("bot", "Sorry, that did not go through: " + error.message, []);
    });
  };

  Widget.prototype.press = function (button) {
    var self = this;
    this.addMessage("you", button.label || button.action, []);
    var pressed = { action: button.action, label: button.label || "" };
    if (button.task_id) pressed.task_id = button.task_id;
    if (button.step !== null && button.step !== undefined) pressed.step = button.step;
    this.api("POST", "/api/chat", { button: pressed }).then(function (data) {
      self.showReplies(data);
    }, function (error) {
      self.addMessage("bot", "Sorry, that did not go through: " + error.message, []);
    });
  };

  Widget.prototype.showReplies = function (data) {
    var self = this;
    (data && data.replies || []).forEach(function (reply) {
      self.addMessage("bot", reply.text, reply.buttons || []);
    });
  };

  Widget.prototype.addMessage = function (who, text, buttons) {
    var self = this;
    var row = el("div", { className: "tt-msg tt-msg-" + who }, [
      el("span", { className: "tt-visually-hidden", text: who === "you" ? "You: " : "tasktalk: " }),
      el("p", { className: "tt-msg-text", text: text }),
    ]);
    if (buttons.length) {
      var group = el("div", { className: "tt-msg-buttons", role: "group" });
      buttons.forEach(function (button) {
        group.appendChild(el("button", {
          type: "button", className: "tt-chat-button", text: button.label || button.action,
          onclick: function () { self.press(button); },
        }));
      });
      row.appendChild(group);
    }
    this.chatLog.appendChild(row);
    this.chatLog.scrollTop = this.chatLog.scrollHeight;
  };

  // --- notifications -------------------------------------------------------------------------
  Widget.prototype.loadSubscriptions = function () {
    var self = this;
    this.api("GET", "/api/subscriptions").then(function (list) {
      self.webSubscriptions = (list || []).filter(function (s) { return s.channel === "web"; });
    }, function () {});
  };

  Widget.prototype.updateNotifyButton = function () {
    var supported = "Notification" in window;
    this.notifyButton.hidden = !supported || Notification.permission === "granted" ||
      Notification.permission === "denied";
  };

  /* Asked only on a click: browsers refuse (and people dislike) a prompt on load. */
  Widget.prototype.enableNotifications = function () {
    var self = this;
    if (!("Notification" in window)) return;
    Promise.resolve(Notification.requestPermission()).then(function (permission) {
      self.updateNotifyButton();
      if (permission !== "granted") return;
      if (!self.webSubscriptions.length) {
        self.api("PUT", "/api/subscriptions/web", { events: DEFAULT_WEB_EVENTS }).then(
          function () { self.loadSubscriptions(); }, function () {});
      }
      self.subscribePush();
    });
  };

  /* Web Push needs a service worker from the server's own origin, so only the full page
   * (or an embed on the server's origin) registers one. */
  Widget.prototype.subscribePush = function () {
    var self = this;
    if (location.origin !== BASE || !("serviceWorker" in navigator) || !("PushManager" in window)) {
      return;
    }
    navigator.serviceWorker.register(BASE + "/sw.js").then(function (registration) {
      return self.api("GET", "/api/webpush/key").then(function (data) {
        return registration.pushManager.getSubscription().then(function (existing) {
          return existing || registration.pushManager.subscribe({
            userVisibleOnly: true,
            applicationServerKey: base64UrlToBytes(data.public_key),
          });
        });
      });
    }).then(function (subscription) {
      return self.api("POST", "/api/webpush/subscriptions", subscription.toJSON());
    }).catch(function () { /* push unavailable here: in-page notifications still work */ });
  };

  function base64UrlToBytes(text) {
    var padded = (text + "===".slice((text.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    var raw = atob(padded);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }

  Widget.prototype.wants = function (event) {
    var doc = this.tasks[event.task_id];
    return this.webSubscriptions.some(function (s) {
      if (s.events.indexOf(event.type) < 0) return false;
      if (s.task_id && s.task_id !== event.task_id) return false;
      if (s.min_task_minutes && doc) {
        var started = parseTime(doc.started_at);
        if (started === null || Date.now() - started < s.min_task_minutes * 60000) return false;
      }
      return true;
    });
  };

  Widget.prototype.notify = function (event) {
    if (!("Notification" in window) || Notification.permission !== "granted") return;
    if (!this.wants(event)) return;
    var words = EVENT_WORDS[event.type] || event.type;
    var body = words.charAt(0).toUpperCase() + words.slice(1);
    if (event.step && event.step_name) body += ": Step " + event.step + " " + event.step_name;
    if (event.error) body += " — " + event.error;
    try {
      new Notification(event.title || "tasktalk", {
        body: body, tag: "tasktalk:" + event.seq, lang: "en",
      });
    } catch (e) { /* some browsers allow notifications only from a service worker */ }
  };

  // --- start ---------------------------------------------------------------------------------
  function boot() {
    var widget = new Widget();
    window.TaskTalk = window.TaskTalk || { widgets: [] };
    window.TaskTalk.widgets.push(widget);
    window.TaskTalk.buildView = buildView;
    widget.start();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", boot);
  else boot();
})();
