// Live view of one camera in a <video>: WebRTC through the WHEP endpoint first, and the fMP4-over-WebSocket
// fallback (Media Source Extensions) when WebRTC is missing or shows no picture in time. Both carry the
// camera's own H.264; nothing is transcoded on the way. A camera whose codec they cannot carry (H.265), or a
// browser with neither, gets Motion JPEG in an <img> beside the video: decoded on the server, a few pictures
// a second.

const FIRST_FRAME_TIMEOUT_MS = 6000;
// Refusals about the camera or the caps (not found, offline, too many viewers) hold for every transport; a codec
// the forwarding transports cannot carry (415) sends the player on to Motion JPEG.
const PERMANENT = [401, 404, 409, 429];
const ICE_GATHERING_TIMEOUT_MS = 2000;

// ?transport=webrtc|fmp4|mjpeg forces one (for diagnosis); otherwise the choice is automatic.
const FORCED = new URLSearchParams(location.search).get("transport");

export class LivePlayer {
  constructor(video, cameraId, onState = () => {}) {
    this.video = video;
    this.cameraId = cameraId;
    this.onState = onState;
    this.transport = null;
    this.closed = false;
    this.pc = null;
    this.location = null;
    this.ws = null;
    this.image = null;
    this.mjpegFailed = false;
  }

  async start() {
    this.video.muted = true;
    this.video.playsInline = true;
    this.video.autoplay = true;
    const order = ["webrtc", "fmp4", "mjpeg"].includes(FORCED) ? [FORCED] : ["webrtc", "fmp4", "mjpeg"];
    let lastError = null;
    for (const transport of order) {
      if (this.closed) return;
      try {
        this.onState("connecting", transport);
        if (transport === "webrtc") await this.#startWebRtc();
        else if (transport === "fmp4") await this.#startFmp4();
        else this.#startMjpeg();
        await this.#firstFrame();
        this.transport = transport;
        this.onState("playing", transport);
        return;
      } catch (error) {
        lastError = error;
        this.#teardown();
        if (error.permanent) break;  // a refusal (camera offline, too many viewers) is the same on any transport
      }
    }
    if (!this.closed) this.onState("failed", lastError ? lastError.message : "");
  }

  stop() {
    this.closed = true;
    this.#teardown();
  }

  async #startWebRtc() {
    if (!window.RTCPeerConnection) throw new Error("WebRTC unavailable");
    const pc = new RTCPeerConnection({ iceServers: [] });
    this.pc = pc;
    pc.addTransceiver("video", { direction: "recvonly" });
    pc.ontrack = (event) => {
      this.video.srcObject = event.streams[0] || new MediaStream([event.track]);
      this.video.play().catch(() => {});
    };
    pc.onconnectionstatechange = () => {
      if (pc.connectionState === "failed" && !this.closed && this.transport === "webrtc") this.onState("failed", "ICE");
    };
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc);
    const response = await fetch(`/api/cameras/${encodeURIComponent(this.cameraId)}/whep`, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/sdp" }, body: pc.localDescription.sdp,
    });
    if (response.status !== 201) throw await refusal(response);
    const resource = response.headers.get("Location");
    if (this.closed || this.pc !== pc) {
      // Stopped while the offer was on its way: release the session the server just opened.
      fetch(resource, { method: "DELETE", credentials: "same-origin" }).catch(() => {});
      throw new Error("closed");
    }
    this.location = resource;
    await pc.setRemoteDescription({ type: "answer", sdp: await response.text() });
  }

  async #startFmp4() {
    if (!window.MediaSource) throw new Error("Media Source Extensions unavailable");
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(`${scheme}//${location.host}/api/cameras/${encodeURIComponent(this.cameraId)}/live.fmp4`);
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    let buffer = null;
    const pending = [];
    const pump = () => {
      if (!buffer || buffer.updating || !pending.length) return;
      const total = pending.reduce((n, part) => n + part.byteLength, 0);
      const joined = new Uint8Array(total);
      let offset = 0;
      for (const part of pending.splice(0)) { joined.set(new Uint8Array(part), offset); offset += part.byteLength; }
      buffer.appendBuffer(joined);
    };
    const followLiveEdge = () => {
      const ranges = this.video.buffered;
      if (!ranges.length) return;
      const end = ranges.end(ranges.length - 1);
      if (end - this.video.currentTime > 1.0 || this.video.currentTime < ranges.start(0)) this.video.currentTime = Math.max(ranges.start(0), end - 0.1);
      if (buffer && !buffer.updating && end - ranges.start(0) > 30) buffer.remove(0, end - 10);
    };
    await new Promise((resolve, reject) => {
      ws.onerror = () => reject(new Error("WebSocket failed"));
      ws.onclose = (event) => reject(Object.assign(new Error(event.reason || "WebSocket closed"),
        { permanent: PERMANENT.includes(event.code - 4000) }));
      ws.onmessage = (event) => {
        if (typeof event.data === "string") {
          const message = JSON.parse(event.data);
          if (message.error) return;  // the close that follows carries the reason
          // A new stream (first, or after the camera reconnected): a fresh MediaSource for its codec.
          const source = new MediaSource();
          pending.length = 0;
          buffer = null;
          source.addEventListener("sourceopen", () => {
            buffer = source.addSourceBuffer(`video/mp4; codecs="${message.codec}"`);
            buffer.mode = "segments";
            buffer.addEventListener("updateend", () => { followLiveEdge(); pump(); });
            pump();
          }, { once: true });
          this.video.srcObject = null;
          if (this.video.src) URL.revokeObjectURL(this.video.src);
          this.video.src = URL.createObjectURL(source);
          this.video.play().catch(() => {});
          resolve();
        } else {
          pending.push(event.data);
          pump();
        }
      };
    });
    ws.onclose = () => { if (!this.closed) this.onState("failed", "WebSocket closed"); };
  }

  #startMjpeg() {
    const image = document.createElement("img");
    image.className = "live-video live-mjpeg";
    image.alt = "";
    image.addEventListener("error", () => { this.mjpegFailed = true; });
    image.src = `/api/cameras/${encodeURIComponent(this.cameraId)}/live.mjpg`;
    this.video.hidden = true;
    this.video.after(image);
    this.image = image;
  }

  #firstFrame() {
    return new Promise((resolve, reject) => {
      const started = performance.now();
      const check = () => {
        if (this.closed) return reject(new Error("closed"));
        if (this.image) {
          if (this.image.naturalWidth > 0) return resolve();
          if (this.mjpegFailed) return reject(new Error("no picture"));
        }
        const quality = this.video.getVideoPlaybackQuality ? this.video.getVideoPlaybackQuality() : null;
        if ((quality && quality.totalVideoFrames > 0) || this.video.readyState >= 2) return resolve();
        if (performance.now() - started > FIRST_FRAME_TIMEOUT_MS) return reject(new Error("no picture"));
        setTimeout(check, 100);
      };
      check();
    });
  }

  #teardown() {
    if (this.pc) {
      // keepalive: the DELETE still goes out when the page is being left.
      if (this.location) fetch(this.location, { method: "DELETE", credentials: "same-origin", keepalive: true }).catch(() => {});
      this.pc.close();
      this.pc = null;
      this.location = null;
    }
    if (this.ws) {
      this.ws.onclose = null;
      this.ws.close();
      this.ws = null;
    }
    if (this.image) {
      this.image.removeAttribute("src");  // ends the picture stream
      this.image.remove();
      this.image = null;
      this.mjpegFailed = false;
      this.video.hidden = false;
    }
    this.video.srcObject = null;
    if (this.video.src) { URL.revokeObjectURL(this.video.src); this.video.removeAttribute("src"); this.video.load(); }
  }
}

function gathered(pc) {
  // WHEP without trickle: the offer carries every candidate, so wait for gathering (bounded).
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => { if (pc.iceGatheringState === "complete") resolve(); };
    pc.addEventListener("icegatheringstatechange", done);
    setTimeout(resolve, ICE_GATHERING_TIMEOUT_MS);
  });
}

async function refusal(response) {
  let detail = response.statusText;
  try { detail = (await response.json()).detail ?? detail; } catch { /* not JSON */ }
  return Object.assign(new Error(detail), { permanent: PERMANENT.includes(response.status) });
}
