// Record from the microphone and hand back a WAV file (16-bit PCM, mono), which the server
// reads like any upload.

export async function startRecording() {
  if (!navigator.mediaDevices?.getUserMedia || !window.MediaRecorder) {
    throw new Error("This browser cannot record from a microphone here (recording needs https or localhost).");
  }
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  } catch (error) {
    throw new Error("The microphone could not be opened (permission refused or no microphone).");
  }
  const recorder = new MediaRecorder(stream);
  const chunks = [];
  recorder.ondataavailable = (event) => chunks.push(event.data);
  recorder.start();
  const started = performance.now();
  return {
    elapsed: () => (performance.now() - started) / 1000,
    // stop() -> File (audio/wav)
    stop: () => new Promise((resolve, reject) => {
      recorder.onstop = async () => {
        stream.getTracks().forEach((t) => t.stop());
        try {
          const blob = new Blob(chunks, { type: recorder.mimeType });
          const context = new AudioContext();
          const decoded = await context.decodeAudioData(await blob.arrayBuffer());
          context.close();
          const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, "-");
          resolve(new File([encodeWav(mixDown(decoded), decoded.sampleRate)], `recording-${stamp}.wav`, { type: "audio/wav" }));
        } catch (error) {
          reject(new Error("The recording could not be decoded by the browser."));
        }
      };
      recorder.stop();
    }),
  };
}

function mixDown(buffer) {
  const out = new Float32Array(buffer.length);
  for (let c = 0; c < buffer.numberOfChannels; c++) {
    const data = buffer.getChannelData(c);
    for (let i = 0; i < data.length; i++) out[i] += data[i] / buffer.numberOfChannels;
  }
  return out;
}

// Float samples in [-1, 1] -> a 16-bit PCM WAV file's bytes.
export function encodeWav(samples, sampleRate) {
  const view = new DataView(new ArrayBuffer(44 + 2 * samples.length));
  const text = (offset, s) => [...s].forEach((ch, i) => view.setUint8(offset + i, ch.charCodeAt(0)));
  text(0, "RIFF"); view.setUint32(4, 36 + 2 * samples.length, true); text(8, "WAVE");
  text(12, "fmt "); view.setUint32(16, 16, true); view.setUint16(20, 1, true); view.setUint16(22, 1, true);
  view.setUint32(24, sampleRate, true); view.setUint32(28, 2 * sampleRate, true);
  view.setUint16(32, 2, true); view.setUint16(34, 16, true);
  text(36, "data"); view.setUint32(40, 2 * samples.length, true);
  for (let i = 0; i < samples.length; i++) {
    const s = Math.max(-1, Math.min(1, samples[i]));
    view.setInt16(44 + 2 * i, s < 0 ? s * 0x8000 : s * 0x7fff, true);
  }
  return view.buffer;
}
