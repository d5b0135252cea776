// The phone's sound: speaks what a call says (the browser's speech synthesis) and plays the audio URLs it is
// given (an <audio> element per call), so a developer hears the IVR. Where the browser cannot (no speech
// synthesis, no voice, a file that does not load, playback blocked), the words stay on the page and a note says
// why; nothing is thrown. Loaded before phone.js, which calls window.phoneSound.
"use strict";

window.phoneSound = (() => {
  let enabled = true;

  function note(panel, text) {
    const line = panel.querySelector(".sound-note");
    if (line) line.textContent = text;
  }

  function speak(panel, text) {
    const synth = window.speechSynthesis;
    if (!synth || typeof synth.speak !== "function" || typeof window.SpeechSynthesisUtterance !== "function") {
      note(panel, "This browser cannot speak: read what the call says above.");
      return;
    }
    try {
      const utterance = new window.SpeechSynthesisUtterance(text);
      utterance.lang = "en-US";
      utterance.onerror = (event) => {
        if (event.error !== "interrupted" && event.error !== "canceled") {
          note(panel, "Speech failed (" + event.error + "): the words are shown above.");
        }
      };
      synth.speak(utterance);
      const voices = typeof synth.getVoices === "function" ? synth.getVoices() : [];
      // Voices load late in some browsers: say so only while none is known, and clear it once one speaks.
      note(panel, voices.length ? "" : "No speech voice found yet: the words are shown above.");
      utterance.onstart = () => note(panel, "");
    } catch (error) {
      note(panel, "Speech failed (" + error + "): the words are shown above.");
    }
  }

  function player(panel) {
    let audio = panel.querySelector("audio");
    if (audio) return audio;
    audio = document.createElement("audio");
    audio.className = "player";
    audio.controls = true;
    audio.preload = "auto";
    audio.queue = [];
    audio.addEventListener("ended", () => next(panel, audio));
    audio.addEventListener("error", () => {
      const problem = audio.error ? audio.error.message || "code " + audio.error.code : "unknown error";
      note(panel, "Could not play " + audio.getAttribute("src") + ": " + problem);
      next(panel, audio);
    });
    panel.querySelector(".sound-note").before(audio);
    return audio;
  }

  function start(panel, audio, url) {
    audio.src = url;
    const started = audio.play();
    if (started && typeof started.catch === "function") {
      started.catch((error) => {
        if (error && error.name === "NotAllowedError") note(panel, "The browser blocked playback of " + url + ": press play.");
        else if (error && error.name !== "AbortError") note(panel, "Could not play " + url + ": " + error.message);
      });
    }
  }

  function next(panel, audio) {
    const url = audio.queue.shift();
    if (url !== undefined) start(panel, audio, url);
  }

  function play(panel, url) {
    const audio = player(panel);
    note(panel, "");
    if (audio.getAttribute("src") && !audio.paused && !audio.ended) audio.queue.push(url);
    else start(panel, audio, url);
  }

  return {
    // What the far end just heard (a "heard" entry of the call's state): spoken or played when sound is on.
    heard(panel, entry) {
      if (!enabled) return;
      if (entry.kind === "speak") speak(panel, entry.text);
      else if (entry.kind === "play") play(panel, entry.text);
    },
    // The call ended: what it still plays stops (a sentence under way finishes: it is short).
    ended(panel) {
      const audio = panel.querySelector("audio");
      if (audio) { audio.queue = []; audio.pause(); }
    },
    setEnabled(on) {
      enabled = on;
      if (on) return;
      if (window.speechSynthesis && typeof window.speechSynthesis.cancel === "function") window.speechSynthesis.cancel();
      for (const audio of document.querySelectorAll("audio.player")) { audio.queue = []; audio.pause(); }
    },
  };
})();
