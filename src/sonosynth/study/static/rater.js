// Rater page: one case at a time; keyboard (R/S, L/M/H, 1-5, Enter, Space) or mouse.
"use strict";
(function () {
  const video = document.getElementById("clip");
  const submitButton = document.getElementById("submit");
  const message = document.getElementById("message");
  const choice = { verdict: null, confidence: null, realism: null };
  let currentCase = null;
  let busy = false;

  function setProgress(answered, total) {
    const bar = document.getElementById("progress");
    bar.max = total;
    bar.value = answered;
    document.getElementById("progress-text").textContent = answered + " of " + total + " answered";
  }

  function select(group, value) {
    if (busy || currentCase === null) return;
    choice[group] = value;
    document.querySelectorAll('[data-group="' + group + '"] button').forEach(function (b) {
      b.setAttribute("aria-pressed", String(b.dataset.value === value));
    });
    submitButton.disabled = !(choice.verdict && choice.confidence && choice.realism);
  }

  function reset() {
    Object.keys(choice).forEach(function (g) { choice[g] = null; });
    document.querySelectorAll(".choices button").forEach(function (b) { b.setAttribute("aria-pressed", "false"); });
    submitButton.disabled = true;
  }

  async function loadNext() {
    busy = true;
    try {
      const r = await fetch("api/next", { cache: "no-store" });
      if (!r.ok) throw new Error("the server answered " + r.status);
      const j = await r.json();
      setProgress(j.answered, j.total);
      reset();
      if (j.done) {
        currentCase = null;
        video.removeAttribute("src");
        video.load();
        document.getElementById("study").hidden = true;
        document.getElementById("done").hidden = false;
        return;
      }
      currentCase = j.case;
      document.getElementById("case-label").textContent = "Case " + (j.answered + 1) + " of " + j.total;
      video.src = j.video;
      video.play().catch(function () { /* autoplay may wait for a gesture; the clip is muted */ });
      message.textContent = "";
    } catch (e) {
      message.textContent = "Could not load the next case (" + e.message + "). Reload the page to retry.";
    } finally {
      busy = false;
    }
  }

  async function submit() {
    if (busy || submitButton.disabled || currentCase === null) return;
    busy = true;
    submitButton.disabled = true;
    const body = new URLSearchParams({ case: currentCase, verdict: choice.verdict,
                                       confidence: choice.confidence, realism: choice.realism });
    try {
      const r = await fetch("api/answer", { method: "POST", body: body, cache: "no-store" });
      const j = await r.json().catch(function () { return {}; });
      if (r.status === 201 || r.status === 409) {
        if (r.status === 409) message.textContent = j.message || "That case was already answered.";
        busy = false;
        await loadNext();
        return;
      }
      message.textContent = "Not saved: " + (j.detail || r.status) + ". Please try again.";
      submitButton.disabled = false;
    } catch (e) {
      message.textContent = "Not saved (network error). Please try again.";
      submitButton.disabled = false;
    } finally {
      busy = false;
    }
  }

  const keys = { r: ["verdict", "real"], s: ["verdict", "synthetic"],
                 l: ["confidence", "1"], m: ["confidence", "2"], h: ["confidence", "3"],
                 1: ["realism", "1"], 2: ["realism", "2"], 3: ["realism", "3"], 4: ["realism", "4"], 5: ["realism", "5"] };

  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const k = e.key.toLowerCase();
    if (keys[k]) { select(keys[k][0], keys[k][1]); e.preventDefault(); }
    else if (e.key === "Enter") { submit(); e.preventDefault(); }
    else if (e.key === " ") { if (video.paused) video.play(); else video.pause(); e.preventDefault(); }
  });

  document.querySelectorAll(".choices").forEach(function (group) {
    group.addEventListener("click", function (e) {
      const b = e.target.closest("button");
      if (b) select(group.dataset.group, b.dataset.value);
    });
  });
  submitButton.addEventListener("click", submit);
  video.addEventListener("click", function () { if (video.paused) video.play(); else video.pause(); });
  video.addEventListener("contextmenu", function (e) { e.preventDefault(); });
  loadNext();
})();
