// The organisation tree (town → institution → cameras) with each camera's health, refreshed every 5 s.

import { api, el } from "./api.js";
import { onLangChange, t } from "./i18n.js";

const REFRESH_MS = 5000;

export class OrgTree {
  constructor(root, onPick) {
    this.root = root;
    this.onPick = onPick;
    this.org = null;
    this.cameras = new Map();
    this.timer = null;
    onLangChange(() => this.render());
  }

  async load() {
    const [org, cameras] = await Promise.all([api("/api/organisation"), api("/api/cameras")]);
    this.org = org;
    this.cameras = new Map(cameras.map((camera) => [camera.id, camera]));
    this.render();
    clearInterval(this.timer);
    this.timer = setInterval(() => this.refresh().catch(() => {}), REFRESH_MS);
  }

  async refresh() {
    const cameras = await api("/api/cameras");
    this.cameras = new Map(cameras.map((camera) => [camera.id, camera]));
    for (const item of this.root.querySelectorAll("[data-camera]")) {
      const camera = this.cameras.get(item.dataset.camera);
      if (camera) this.#paintState(item, camera);
    }
  }

  stop() { clearInterval(this.timer); }

  institutions() {
    const found = [];
    const walk = (node) => { if (node.kind === "institution") found.push(node); node.children.forEach(walk); };
    if (this.org) walk(this.org);
    return found;
  }

  // Every organisation unit of the user's scope, by id, in the order the tree shows them.
  units() {
    const found = new Map();
    const walk = (node) => { found.set(node.id, node); node.children.forEach(walk); };
    if (this.org) walk(this.org);
    return found;
  }

  // Every camera in the order the tree shows them.
  cameraOrder() {
    const found = [];
    const walk = (node) => { node.children.forEach(walk); found.push(...node.cameras); };
    if (this.org) walk(this.org);
    return found.map((id) => this.cameras.get(id)).filter(Boolean);
  }

  camerasOf(institutionId) {
    const node = this.institutions().find((unit) => unit.id === institutionId);
    return node ? node.cameras.map((id) => this.cameras.get(id)).filter(Boolean) : [];
  }

  render() {
    if (!this.org) return;
    this.root.replaceChildren(this.#node(this.org));
  }

  #node(unit) {
    const cameras = unit.cameras.map((id) => this.cameras.get(id)).filter(Boolean).map((camera) => {
      const item = el("li", { class: "camera", dataset: { camera: camera.id }, tabindex: "0",
        onclick: () => this.onPick(camera), onkeydown: (e) => { if (e.key === "Enter") this.onPick(camera); } },
        el("span", { class: "dot" }), el("span", { class: "name" }, camera.name),
        el("span", { class: "state" }));
      this.#paintState(item, camera);
      return item;
    });
    const children = unit.children.map((child) => this.#node(child));
    return el("li", { class: `unit ${unit.kind}`, dataset: { unit: unit.id } },
      el("div", { class: "unit-name" }, unit.name),
      el("ul", {}, ...children, ...cameras));
  }

  #paintState(item, camera) {
    const state = camera.health ? camera.health.state : "unknown";
    item.dataset.state = state;
    item.title = camera.health && camera.health.last_error ? camera.health.last_error : t(`state.${state}`);
    let label = t(`state.${state}`);
    // A camera analysed on its sub-stream: while that connection is down its detectors see nothing, though the
    // main stream records on; say so beside the camera, not only in its detail.
    const sub = camera.detect_health;
    if (sub && sub.state !== "online" && state === "online") {
      item.dataset.substream = sub.state;
      label = `${label} · ${t("substream")}${t(`state.${sub.state}`)}`;
      item.title = `${t("substream")}${t(`state.${sub.state}`)}${sub.last_error ? `: ${sub.last_error}` : ""}`;
    } else {
      delete item.dataset.substream;
    }
    item.querySelector(".state").textContent = label;
  }
}
