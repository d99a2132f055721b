// The camera: frames of getUserMedia's video, drawn on a canvas and sent as
// JPEG to /api/scan/image about 4 times a second (one at a time), until a
// code is read; then a beep (WebAudio, no sound file) and a flash.
"use strict";

const camera = { stream: null, timer: null, busy: false, canvas: document.createElement("canvas") };
const cameraIntervalMs = 250;
// A camera that has not answered by then gets a message (the scanner and the
// keyboard still work); it starts if it answers later.
const cameraSlowMs = 8000;

function cameraMessage(key) { $("camera-msg").textContent = key ? t(key) : ""; }

async function cameraStart() {
  cameraMessage("");
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) { cameraMessage("camera_none"); return; }
  const slow = setTimeout(() => cameraMessage("camera_slow"), cameraSlowMs);
  try {
    camera.stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment", width: { ideal: 1280 } }, audio: false });
  } catch (e) {
    const denied = e && (e.name === "NotAllowedError" || e.name === "SecurityError");
    cameraMessage(denied ? "camera_denied" : "camera_none");
    return;
  } finally {
    clearTimeout(slow);
  }
  cameraMessage("");
  const v = $("camera-video");
  v.srcObject = camera.stream;
  await v.play().catch(() => null);
  $("camera-box").hidden = false;
  document.body.dataset.camera = "on";
  camera.timer = setInterval(cameraFrame, cameraIntervalMs);
}

function cameraStop() {
  if (camera.timer) clearInterval(camera.timer);
  camera.timer = null;
  if (camera.stream) camera.stream.getTracks().forEach((tr) => tr.stop());
  camera.stream = null;
  $("camera-video").srcObject = null;
  $("camera-box").hidden = true;
  delete document.body.dataset.camera;
}

async function cameraFrame() {
  const v = $("camera-video");
  if (camera.busy || !camera.stream || v.videoWidth === 0) return;
  camera.busy = true;
  try {
    const c = camera.canvas;
    c.width = v.videoWidth; c.height = v.videoHeight;
    c.getContext("2d").drawImage(v, 0, 0);
    const blob = await new Promise((ok) => c.toBlob(ok, "image/jpeg", 0.85));
    if (!blob || !camera.stream) return;
    const r = await api("POST", "/api/scan/image", await blob.arrayBuffer(), "image/jpeg");
    if (!camera.stream) return;
    if (r.ok && r.data.text) {
      cameraStop();
      beep(); flash();
      $("code").value = r.data.text;
      showCheck(r.data, r.data.text);
    } else if (!r.ok) {
      showError(r.data.error);
    }
  } finally {
    camera.busy = false;
  }
}

function beep() {
  try {
    const ac = new (window.AudioContext || window.webkitAudioContext)();
    const o = ac.createOscillator(), g = ac.createGain();
    o.frequency.value = 1760; g.gain.value = 0.2;
    o.connect(g); g.connect(ac.destination);
    o.start(); o.stop(ac.currentTime + 0.12);
    o.onended = () => ac.close();
  } catch (e) { /* no audio output: the flash is enough */ }
}

function flash() {
  const f = $("flash");
  f.hidden = false;
  setTimeout(() => { f.hidden = true; }, 300);
}

$("camera-start").addEventListener("click", cameraStart);
$("camera-stop").addEventListener("click", () => { cameraStop(); $("code").focus(); });
