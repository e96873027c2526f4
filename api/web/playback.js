// Playback of recordings: pick a camera and a period, see the timeline of recorded spans and gaps, play from
// any moment (Media Source Extensions over the recorded segments), and export a clip.
//
// Each segment file carries its own initialisation section and timestamps from zero; the player appends
// them in order with timestampOffset = segment start − period start, so the video's clock is the wall
// clock and a gap is a hole the player steps over.
//
// Recordings of H.265 cameras, which browsers seldom play, come as pictures instead: the server decodes them
// and streams JPEGs (multipart), each with the wall-clock time it shows.

import { api, el } from "./api.js";
import { formatTime, t } from "./i18n.js";

const PERIODS = [[15 * 60, "15m"], [3600, "1h"], [6 * 3600, "6h"], [24 * 3600, "24h"]];
const AHEAD_S = 90;  // how far ahead of the playhead segments are appended

function localInput(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

const clock = formatTime;  // local wall-clock time in the interface's language

async function bytes(url) {
  const response = await fetch(url, { credentials: "same-origin" });
  if (!response.ok) throw new Error(`${response.status} ${url}`);
  return new Uint8Array(await response.arrayBuffer());
}

// The codec string MSE needs, read from the avcC box of an initialisation section.
function codecOf(init) {
  for (let i = 0; i + 8 < init.length; i++) {
    if (init[i] === 0x61 && init[i + 1] === 0x76 && init[i + 2] === 0x63 && init[i + 3] === 0x43) {  // "avcC"
      const hex = (n) => n.toString(16).padStart(2, "0");
      return `avc1.${hex(init[i + 5])}${hex(init[i + 6])}${hex(init[i + 7])}`;
    }
  }
  return null;
}

// Where `needle` (bytes) starts in `data`, or -1.
function indexOf(data, needle, from = 0) {
  outer: for (let i = from; i + needle.length <= data.length; i++) {
    for (let j = 0; j < needle.length; j++) if (data[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

const HEADER_END = [13, 10, 13, 10];

class PicturePlayer {
  constructor(image, cameraId, onTime) {
    this.image = image;
    this.cameraId = cameraId;
    this.onTime = onTime;
    this.abort = new AbortController();
    this.shown = null;
  }

  // Resolves when the pictures end (or the player is closed); rejects with the server's refusal.
  async play(fromTs) {
    const params = new URLSearchParams({ start: new Date(fromTs * 1000).toISOString() });
    const response = await fetch(`/api/cameras/${encodeURIComponent(this.cameraId)}/recordings/pictures.mjpg?${params}`,
      { credentials: "same-origin", signal: this.abort.signal });
    if (!response.ok) throw new Error((await response.json().catch(() => ({}))).detail || response.statusText);
    const reader = response.body.getReader();
    let buffer = new Uint8Array(0);
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        const joined = new Uint8Array(buffer.length + value.length);
        joined.set(buffer);
        joined.set(value, buffer.length);
        buffer = this.#showParts(joined);
      }
    } catch (error) {
      if (error.name !== "AbortError") throw error;
    }
  }

  // Shows every complete part of `data`; returns what is left of it.
  #showParts(data) {
    for (;;) {
      const end = indexOf(data, HEADER_END);
      if (end < 0) return data;
      const headers = {};
      for (const line of new TextDecoder().decode(data.subarray(0, end)).split("\r\n").slice(1)) {
        const colon = line.indexOf(":");
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      const length = Number(headers["content-length"]);
      if (data.length < end + 4 + length + 2) return data;
      const jpeg = data.slice(end + 4, end + 4 + length);
      const previous = this.shown;
      this.shown = URL.createObjectURL(new Blob([jpeg], { type: "image/jpeg" }));
      this.image.src = this.shown;
      if (previous) URL.revokeObjectURL(previous);
      this.onTime(Number(headers["x-wall-time"]));
      data = data.slice(end + 4 + length + 2);
    }
  }

  close() {
    this.abort.abort();
    if (this.shown) URL.revokeObjectURL(this.shown);
    this.shown = null;
  }
}

class SegmentPlayer {
  constructor(video, cameraId, origin) {
    this.video = video;
    this.cameraId = cameraId;
    this.origin = origin;  // wall-clock time of video.currentTime = 0
    this.queue = [];
    this.appending = false;
    this.closed = false;
    this.wanted = null;
    this.media = new MediaSource();
    video.src = URL.createObjectURL(this.media);
    this.ready = new Promise((resolve) => this.media.addEventListener("sourceopen", resolve, { once: true }));
    video.addEventListener("waiting", () => this.#skipGap());
    video.addEventListener("timeupdate", () => this.#fill());
  }

  async play(segments, fromTs) {
    await this.ready;
    this.segments = segments;
    this.next = Math.max(0, segments.findIndex((s) => s.end > fromTs));
    this.wanted = fromTs;  // until the first frames are in, currentTime does not move there yet
    await this.#fill();
    this.video.currentTime = Math.max(0, fromTs - this.origin);
    await this.video.play().catch(() => {});
  }

  async #fill() {
    if (this.closed || this.appending || !this.segments) return;
    const playhead = Math.max(this.origin + this.video.currentTime, this.wanted ?? 0);
    this.appending = true;
    try {
      while (this.next < this.segments.length && this.segments[this.next].start < playhead + AHEAD_S) {
        const segment = this.segments[this.next++];
        const base = `/api/cameras/${encodeURIComponent(this.cameraId)}/recordings/segments/${segment.id}`;
        const [init, media] = await Promise.all([bytes(`${base}/init.mp4`), bytes(`${base}/media.m4s`)]);
        if (!this.buffer) {
          const codec = codecOf(init);
          const type = `video/mp4; codecs="${codec}"`;
          if (!codec || !MediaSource.isTypeSupported(type)) throw new Error(t("playback.unsupported"));
          this.buffer = this.media.addSourceBuffer(type);
          this.buffer.mode = "segments";
        }
        this.buffer.timestampOffset = segment.start - this.origin;
        await this.#append(init);
        await this.#append(media);
      }
    } finally {
      this.appending = false;
    }
  }

  #append(data) {
    return new Promise((resolve, reject) => {
      this.buffer.addEventListener("updateend", resolve, { once: true });
      this.buffer.addEventListener("error", reject, { once: true });
      this.buffer.appendBuffer(data);
    });
  }

  // Stalled in a gap: jump to where the recording resumes.
  #skipGap() {
    const now = this.video.currentTime;
    const ranges = this.video.buffered;
    for (let i = 0; i < ranges.length; i++) {
      if (ranges.start(i) > now + 0.05) {
        this.video.currentTime = ranges.start(i) + 0.01;
        return;
      }
    }
  }

  close() {
    this.closed = true;
    this.video.pause();
    this.video.removeAttribute("src");
    this.video.load();
  }
}

export function mountPlayback(root, { tree }) {
  const cameraSelect = el("select", { name: "camera", id: "playback-camera" },
    ...[...tree.cameras.values()].map((camera) => el("option", { value: camera.id }, camera.name)));
  const startInput = el("input", { type: "datetime-local", name: "start", id: "playback-start",
    value: localInput(new Date(Date.now() - 3600 * 1000)) });
  const periodSelect = el("select", { name: "period", id: "playback-period" },
    ...PERIODS.map(([seconds, label]) => el("option", { value: seconds, selected: seconds === 3600 }, t(`playback.${label}`))));
  const timeline = el("div", { class: "timeline", id: "playback-timeline", title: t("playback.timelineHint") });
  const video = el("video", { id: "playback-video", muted: true, playsinline: true, controls: true });
  const picture = el("img", { id: "playback-picture", alt: "", hidden: true });
  const position = el("div", { class: "playback-clock", id: "playback-clock" });
  const status = el("p", { class: "muted", id: "playback-status" });
  const exportButton = el("button", { type: "button", id: "playback-export", disabled: true }, t("playback.export"));
  const exportStatus = el("span", { class: "muted", id: "playback-export-status" });
  let player = null;
  let range = null;
  let listing = null;
  let shownAt = null;  // the wall-clock time on screen

  function showTime(wall) {
    shownAt = wall;
    position.textContent = clock(wall);
    position.dataset.wall = String(wall);
    const cursor = timeline.querySelector(".cursor");
    if (cursor) cursor.style.left = `${((wall - range.start) / (range.end - range.start)) * 100}%`;
  }

  async function query(event) {
    event?.preventDefault();
    const start = new Date(startInput.value).getTime() / 1000;
    range = { camera: cameraSelect.value, start, end: Math.min(start + Number(periodSelect.value), Date.now() / 1000) };
    status.textContent = "";
    const params = new URLSearchParams({ start: new Date(range.start * 1000).toISOString(),
      end: new Date(range.end * 1000).toISOString() });
    try {
      listing = await api(`/api/cameras/${encodeURIComponent(range.camera)}/recordings?${params}`);
    } catch (error) {
      listing = null;
      timeline.replaceChildren();
      status.textContent = error.message;
      return;
    }
    drawTimeline();
    exportButton.disabled = listing.segments.length === 0;
    if (listing.segments.length === 0) status.textContent = t("playback.nothing");
    else await playFrom(Math.max(range.start, listing.segments[0].start));
  }

  function drawTimeline() {
    const span = range.end - range.start;
    const bar = (from, to, cls, title) => {
      // Through the CSSOM: the page's content-security policy forbids style attributes.
      const node = el("div", { class: cls, title });
      node.style.left = `${((Math.max(from, range.start) - range.start) / span) * 100}%`;
      node.style.width = `${Math.max(0.2, ((Math.min(to, range.end) - Math.max(from, range.start)) / span) * 100)}%`;
      return node;
    };
    timeline.replaceChildren(
      ...listing.spans.map((s) => bar(s.start, s.end, "span recorded", `${clock(s.start)} – ${clock(s.end)}`)),
      ...listing.gaps.map((g) => bar(g.start, g.end ?? range.end, "span gap", `${t("playback.gap")}: ${g.cause}`)),
      el("div", { class: "cursor", id: "playback-cursor" }));
  }

  async function playFrom(at) {
    const seek = await api(`/api/cameras/${encodeURIComponent(range.camera)}/recordings/seek?` +
      new URLSearchParams({ at: new Date(at * 1000).toISOString() }));
    player?.close();
    const playable = listing.segments.filter((s) => s.duration_s > 0);
    const asPictures = playable.some((s) => s.codec === "hevc");
    video.hidden = asPictures;
    picture.hidden = !asPictures;
    if (asPictures) {
      video.pause();
      const pictures = new PicturePlayer(picture, range.camera, showTime);
      player = pictures;
      pictures.play(seek.keyframe_at).catch((error) => { if (player === pictures) status.textContent = error.message; });
      return;
    }
    player = new SegmentPlayer(video, range.camera, range.start);
    try {
      await player.play(playable, seek.keyframe_at);
    } catch (error) {
      status.textContent = error.message;
    }
  }

  timeline.addEventListener("click", (event) => {
    if (!range || !listing) return;
    const box = timeline.getBoundingClientRect();
    playFrom(range.start + ((event.clientX - box.left) / box.width) * (range.end - range.start));
  });

  video.addEventListener("timeupdate", () => {
    if (range && !video.hidden) showTime(range.start + video.currentTime);
  });

  exportButton.addEventListener("click", async () => {
    if (!range) return;
    const from = shownAt ?? range.start;
    const body = { start: new Date(from * 1000).toISOString(),
      end: new Date(Math.min(from + 60, range.end) * 1000).toISOString() };
    try {
      let job = await api(`/api/cameras/${encodeURIComponent(range.camera)}/exports`, { method: "POST", body });
      while (job.state === "queued" || job.state === "running") {
        exportStatus.textContent = `${t("playback.exporting")} ${job.progress_percent}%`;
        await new Promise((resolve) => setTimeout(resolve, 500));
        job = await api(`/api/exports/${job.id}`);
      }
      exportStatus.replaceChildren(job.state === "done"
        ? el("a", { href: job.download_url, id: "playback-download" }, t("playback.download"))
        : `${t("playback.exportFailed")}: ${job.error}`);
    } catch (error) {
      exportStatus.textContent = error.message;
    }
  });

  root.replaceChildren(
    el("form", { class: "playback-query", id: "playback-form", onsubmit: query },
      el("label", {}, t("playback.camera"), cameraSelect),
      el("label", {}, t("playback.start"), startInput),
      el("label", {}, t("playback.period"), periodSelect),
      el("button", { type: "submit" }, t("playback.query"))),
    timeline, video, picture, position, el("div", { class: "playback-actions" }, exportButton, exportStatus), status);
  return { hide() { player?.close(); } };
}
