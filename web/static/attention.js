// Foyer shopper page: calling a shopper back whose turn came while they
// looked elsewhere: a browser notification (only when they asked for one,
// by a click), a short beep and a blinking tab title. Plain script, no
// build step; it sets one global, FoyerAttention.
"use strict";

(() => {
  const BLINK_EVERY = 1000; // ms between the two titles while the tab is not looked at

  let audio = null; // the AudioContext, made on a click: browsers keep audio silent until a gesture
  let blinkTimer = 0, restTitle = "";

  // canNotify tells whether the page may still ask for notifications: the
  // browser has them and the shopper has not answered yet.
  const canNotify = () => "Notification" in globalThis && Notification.permission === "default";

  // askToNotify asks for permission to notify; call it from a click only.
  async function askToNotify() {
    if (!canNotify()) return Notification.permission;
    try {
      return await Notification.requestPermission();
    } catch {
      return "denied";
    }
  }

  // unlockSound makes the AudioContext during a click (joining), so the
  // beep may play later, when no click is at hand.
  function unlockSound() {
    const Ctx = globalThis.AudioContext || globalThis.webkitAudioContext;
    if (!Ctx) return;
    try {
      audio = audio || new Ctx();
      if (audio.state === "suspended") audio.resume();
    } catch { audio = null; }
  }

  // beep plays two short tones, made on the spot: no sound file to fetch.
  function beep() {
    if (!audio) return;
    const at = audio.currentTime;
    for (const [i, freq] of [[0, 880], [1, 1320]]) {
      const osc = audio.createOscillator(), gain = audio.createGain();
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, at + i * 0.18);
      gain.gain.exponentialRampToValueAtTime(0.2, at + i * 0.18 + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, at + i * 0.18 + 0.16);
      osc.connect(gain).connect(audio.destination);
      osc.start(at + i * 0.18);
      osc.stop(at + i * 0.18 + 0.17);
    }
  }

  // blink alternates the tab's title with text until the tab is looked at.
  function blink(text) {
    stopBlinking();
    if (!document.hidden) return;
    restTitle = document.title;
    let on = false;
    blinkTimer = setInterval(() => {
      on = !on;
      document.title = on ? text : restTitle;
    }, BLINK_EVERY);
  }
  function stopBlinking() {
    if (!blinkTimer) return;
    clearInterval(blinkTimer);
    blinkTimer = 0;
    document.title = restTitle;
  }
  // setTitle is how the page names its tab: while the title blinks, the
  // name waits for the blinking to end.
  function setTitle(text) {
    if (blinkTimer) restTitle = text;
    else if (document.title !== text) document.title = text;
  }
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) stopBlinking();
  });

  // call gets the shopper's attention with text, by every means they allowed.
  function call(text) {
    beep();
    blink(text);
    if ("Notification" in globalThis && Notification.permission === "granted" && document.hidden) {
      try {
        const n = new Notification(text, { tag: "foyer-turn" });
        n.onclick = () => { globalThis.focus(); n.close(); };
      } catch { /* some browsers notify only from a service worker: the title and the beep remain */ }
    }
  }

  globalThis.FoyerAttention = Object.freeze({ canNotify, askToNotify, unlockSound, call, setTitle });
})();
