// The live grid: 1, 4, 9 or 16 tiles, each playing one camera; a click on a camera fills the selected tile.

import { el } from "./api.js";
import { onLangChange, t } from "./i18n.js";
import { LivePlayer } from "./player.js";

export class LiveGrid {
  constructor(root) {
    this.root = root;
    this.firstOpen = localStorage.getItem("vms.grid") === null;
    this.size = Number(localStorage.getItem("vms.grid")) || 4;
    this.tiles = [];
    this.selected = 0;
    onLangChange(() => this.tiles.forEach((tile) => this.#label(tile)));
    this.layout(this.size);
  }

  layout(size) {
    this.size = size;
    localStorage.setItem("vms.grid", String(size));
    while (this.tiles.length > size) this.#clear(this.tiles.pop());
    while (this.tiles.length < size) this.tiles.push(this.#tile(this.tiles.length));
    this.selected = Math.min(this.selected, size - 1);
    this.root.dataset.size = String(size);
    this.root.replaceChildren(...this.tiles.map((tile) => tile.node));
    this.#paintSelection();
    for (const button of document.querySelectorAll("[data-grid]")) {
      button.classList.toggle("active", Number(button.dataset.grid) === size);
    }
  }

  play(camera) {
    const tile = this.tiles[this.selected];
    if (tile.camera && tile.camera.id === camera.id && tile.state !== "failed") {
      this.selected = (this.selected + 1) % this.tiles.length;  // already there: keep it playing
      this.#paintSelection();
      return;
    }
    this.#clear(tile);
    tile.camera = camera;
    tile.player = new LivePlayer(tile.video, camera.id, (state, detail) => {
      tile.state = state;
      tile.transport = state === "playing" ? detail : tile.transport;
      tile.detail = state === "failed" ? detail : "";
      this.#label(tile);
    });
    tile.player.start();
    this.#label(tile);
    this.selected = (this.selected + 1) % this.tiles.length;
    this.#paintSelection();
  }

  // Play the first cameras of `cameras` in the empty tiles, from the first.
  fill(cameras) {
    this.selected = 0;
    for (const camera of cameras.slice(0, this.tiles.length)) this.play(camera);
    this.selected = 0;
    this.#paintSelection();
  }

  stopAll() { this.tiles.forEach((tile) => this.#clear(tile)); }

  #tile(index) {
    const video = el("video", { class: "live-video", muted: true, autoplay: true, playsinline: true });
    const caption = el("div", { class: "caption" });
    const node = el("div", { class: "tile", dataset: { index: String(index) } }, video, caption);
    const tile = { node, video, caption, camera: null, player: null, state: "idle", transport: null, detail: "" };
    node.addEventListener("click", () => { this.selected = this.tiles.indexOf(tile); this.#paintSelection(); });
    this.#label(tile);
    return tile;
  }

  #clear(tile) {
    if (tile.player) tile.player.stop();
    tile.player = null;
    tile.camera = null;
    tile.state = "idle";
    tile.transport = null;
    this.#label(tile);
  }

  #label(tile) {
    tile.node.dataset.state = tile.state;
    tile.node.dataset.camera = tile.camera ? tile.camera.id : "";
    tile.node.dataset.transport = tile.transport || "";
    if (!tile.camera) {
      tile.caption.replaceChildren(el("span", { class: "muted" }, t("grid.empty")));
      return;
    }
    const status = tile.state === "playing" ? t(`player.${tile.transport}`)
      : tile.state === "failed" ? `${t("player.failed")}: ${tile.detail}` : t("player.connecting");
    const snapshot = el("a", { class: "button", href: `/api/cameras/${encodeURIComponent(tile.camera.id)}/snapshot.jpg`,
      target: "_blank", rel: "noopener" }, t("tile.snapshot"));
    const close = el("button", { type: "button", onclick: (event) => { event.stopPropagation(); this.#clear(tile); } },
      t("tile.close"));
    tile.caption.replaceChildren(el("span", { class: "name" }, tile.camera.name),
      el("span", { class: "status" }, status), snapshot, close);
  }

  #paintSelection() {
    this.tiles.forEach((tile, index) => tile.node.classList.toggle("selected", index === this.selected));
  }
}
