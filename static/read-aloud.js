// "Lees voor" on the client's page: reads the next activity aloud with the phone's own voice
// (Web Speech API), in the page's language. The button appears only when the phone has a voice
// for that language; nothing leaves the phone.
(function () {
  "use strict";
  var button = document.querySelector("button[data-speak]");
  if (!button || !("speechSynthesis" in window)) return;
  var synth = window.speechSynthesis;
  var lang = (button.getAttribute("data-lang") || "nl").toLowerCase();

  function voice() {
    var voices = synth.getVoices();
    for (var i = 0; i < voices.length; i++) {
      if ((voices[i].lang || "").toLowerCase().replace("_", "-").indexOf(lang) === 0) return voices[i];
    }
    return null;
  }

  function reveal() {
    if (voice()) button.hidden = false;
  }

  reveal();
  synth.addEventListener("voiceschanged", reveal);
  button.addEventListener("click", function () {
    if (synth.speaking) {
      synth.cancel();
      return;
    }
    var utterance = new SpeechSynthesisUtterance(button.getAttribute("data-speak"));
    utterance.lang = lang;
    try {
      utterance.voice = voice();
    } catch (error) {
      // Not a voice this browser can set: the language alone then picks one.
    }
    utterance.rate = 0.9;
    synth.speak(utterance);
  });
})();
