// The callhooks phone: renders the simulator's phone state (a server-sent event per change) and sends what
// the person does to the control API. Same origin, same Basic auth as the page; no libraries.
"use strict";

(() => {
  // location.origin has no credentials in it: fetch() refuses URLs that carry them.
  const root = location.origin + location.pathname.replace(/\/phone\/?$/, "");
  const $ = (id) => document.getElementById(id);
  const panels = new Map();
  let suggested = false;
  // The first state after the page loads shows what calls said before: it is shown, not spoken again.
  let primed = false;

  function say(text) {
    $("message").textContent = text;
  }

  async function send(method, path, body) {
    try {
      const response = await fetch(root + path, {
        method,
        headers: { "Content-Type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      if (!response.ok) {
        let problem = response.status + " " + response.statusText;
        try {
          const error = await response.json();
          if (error && error.message) problem = error.message;
        } catch (ignored) { /* not JSON: the status says enough */ }
        say(problem);
        return null;
      }
      say("");
      return response.status === 204 ? {} : await response.json();
    } catch (error) {
      say("The simulator cannot be reached: " + error);
      return null;
    }
  }

  function label(call) {
    if (call.state === "started") return call.direction === "out" ? "ringing" : "calling…";
    if (call.state === "active") return "on call";
    return call.state;
  }

  function render(state) {
    const lines = $("lines");
    lines.replaceChildren(...state.lines.map((number) => {
      const item = document.createElement("li");
      item.textContent = number;
      const stop = document.createElement("button");
      stop.type = "button";
      stop.className = "secondary";
      stop.textContent = "Stop";
      stop.setAttribute("aria-label", "Stop answering calls for " + number);
      stop.addEventListener("click", () => send("DELETE", "/phone/lines/" + encodeURIComponent(number)));
      item.append(stop);
      return item;
    }));
    $("numbers").replaceChildren(...state.numbers.map((number) => {
      const option = document.createElement("option");
      option.value = number;
      return option;
    }));
    if (!suggested && state.numbers.length && !$("to").value) {
      $("to").value = state.numbers[0];
      suggested = true;
    }
    const shown = new Set();
    let previous = null;
    for (const call of state.calls) {
      shown.add(call.callId);
      const panel = panels.get(call.callId) || newPanel(call);
      update(panel, call);
      // newest first, in the order the state gives
      if (previous === null ? $("calls").firstElementChild !== panel : previous.nextElementSibling !== panel) {
        if (previous === null) $("calls").prepend(panel); else previous.after(panel);
      }
      previous = panel;
    }
    for (const [id, panel] of panels) {
      if (!shown.has(id)) { panel.remove(); panels.delete(id); }
    }
    $("no-calls").hidden = state.calls.length > 0;
    primed = true;
  }

  function newPanel(call) {
    const panel = $("call-template").content.firstElementChild.cloneNode(true);
    panel.dataset.callId = call.callId;
    panel.dataset.rendered = "0";
    panel.querySelector(".title").textContent =
      call.direction === "out" ? "Call from " + call.from + " to you (" + call.to + ")" : "You (" + call.from + ") called " + call.to;
    panel.setAttribute("aria-label", panel.querySelector(".title").textContent);
    panels.set(call.callId, panel);
    return panel;
  }

  function update(panel, call) {
    const ringing = call.state === "started" && call.direction === "out";
    const talking = call.state === "active" || call.state === "transferring";
    const ended = call.state === "completed" || call.state === "rejected" || call.state === "error";
    if (ended && panel.dataset.state && !panel.classList.contains("ended")) window.phoneSound.ended(panel);
    panel.dataset.state = call.state;
    panel.classList.toggle("ringing", ringing);
    panel.classList.toggle("active", talking);
    panel.classList.toggle("ended", ended);
    panel.querySelector(".state").textContent = label(call);
    const playing = call.playing;
    panel.querySelector(".now").textContent = !playing ? "" :
      playing.kind === "speak" ? "Saying: \u201c" + playing.text + "\u201d" : "Playing: " + playing.text;
    panel.querySelector(".gather").textContent = call.gather ? "Waiting for digits: " + (call.gather.digits || "\u2026") : "";
    panel.querySelector(".ringing-actions").hidden = !ringing;
    panel.querySelector(".keypad").hidden = !talking;
    panel.querySelector(".hangup").hidden = ended || ringing;  // a ringing call is rejected instead
    const list = panel.querySelector(".heard");
    const fresh = Math.min(call.heardTotal - Number(panel.dataset.rendered), call.heard.length);
    for (const entry of call.heard.slice(call.heard.length - fresh)) {
      const item = document.createElement("li");
      item.className = "kind-" + entry.kind;
      const kind = document.createElement("span");
      kind.className = "kind";
      kind.textContent = entry.kind;
      const text = document.createElement("span");
      text.className = "text";
      text.textContent = entry.text;
      item.append(kind, text);
      list.append(item);
      // A sentence is spoken even when the call ended in the same update (the IVR's goodbye); audio only live.
      if (primed && (entry.kind === "speak" || !ended)) window.phoneSound.heard(panel, entry);
    }
    if (fresh > 0) list.scrollTop = list.scrollHeight;
    panel.dataset.rendered = String(call.heardTotal);
  }

  function act(panel, action) {
    const id = encodeURIComponent(panel.dataset.callId);
    return send("POST", "/calls/" + id + "/" + action, {});
  }

  function press(panel, key) {
    return send("POST", "/calls/" + encodeURIComponent(panel.dataset.callId) + "/dtmf", { digits: key });
  }

  function connect() {
    const stream = new EventSource(root + "/phone/stream");
    stream.onopen = () => { $("connection").textContent = "live"; };
    stream.onmessage = (message) => { render(JSON.parse(message.data)); };
    // EventSource reconnects by itself (the server ends each stream after a while)
    stream.onerror = () => { $("connection").textContent = "reconnecting…"; };
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("sound").addEventListener("change", () => window.phoneSound.setEnabled($("sound").checked));
    $("dial-form").addEventListener("submit", (event) => {
      event.preventDefault();
      send("POST", "/phone/dial", { from: $("from").value.trim(), to: $("to").value.trim() });
    });
    $("line-form").addEventListener("submit", (event) => {
      event.preventDefault();
      send("POST", "/phone/lines", { number: $("line").value.trim() }).then((done) => {
        if (done) $("line").value = "";
      });
    });
    $("calls").addEventListener("click", (event) => {
      const button = event.target.closest("button");
      const panel = button && button.closest(".call");
      if (!panel) return;
      if (button.dataset.key) press(panel, button.dataset.key);
      else if (button.dataset.action) act(panel, button.dataset.action);
    });
    // On a call's panel, the keyboard's digits, * and # press the keypad's keys.
    $("calls").addEventListener("keydown", (event) => {
      const panel = event.target.closest(".call");
      if (!panel || event.ctrlKey || event.metaKey || event.altKey || !/^[0-9*#]$/.test(event.key)) return;
      if (panel.dataset.state === "active" || panel.dataset.state === "transferring") {
        event.preventDefault();
        press(panel, event.key);
      }
    });
    connect();
  });
})();
