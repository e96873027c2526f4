// Spot-check mode: walk through one institution's cameras live, keep snapshots as evidence, record a result.

import { api, el } from "./api.js";
import { formatTime, onLangChange, t } from "./i18n.js";
import { LivePlayer } from "./player.js";

export class SpotCheckPage {
  constructor(root, tree) {
    this.root = root;
    this.tree = tree;
    this.check = null;      // the spot check in progress
    this.cameras = [];
    this.index = 0;
    this.player = null;
    this.history = [];
    this.message = "";
    onLangChange(() => this.render());
  }

  async show() {
    await this.loadHistory();
    this.render();
  }

  hide() { this.#stopPlayer(); }

  async loadHistory() {
    this.history = await api("/api/spot-checks");
  }

  render() {
    this.#stopPlayer();
    const body = this.check ? this.#walk() : this.#picker();
    const parts = [el("h2", {}, t("spot.title")), body];
    if (this.message) parts.push(el("p", { class: "notice", role: "status" }, this.message));
    parts.push(el("h3", {}, t("spot.history")), this.#historyTable());
    this.root.replaceChildren(...parts);
    if (this.check && this.cameras.length) this.#startPlayer();
  }

  #picker() {
    const select = el("select", { id: "spot-institution" },
      ...this.tree.institutions().map((unit) => el("option", { value: unit.id }, unit.name)));
    const start = el("button", { type: "button", id: "spot-start", onclick: () => this.#start(select.value) }, t("spot.start"));
    return el("div", { class: "spot-picker" }, el("label", {}, t("spot.pick"), select), start);
  }

  async #start(institutionId) {
    try {
      this.check = await api("/api/spot-checks", { method: "POST", body: { institution_id: institutionId } });
      this.cameras = this.tree.camerasOf(institutionId);
      this.index = 0;
      this.message = "";
    } catch (error) {
      this.message = `${t("error.generic")}: ${error.message}`;
    }
    this.render();
  }

  #walk() {
    if (!this.cameras.length) return el("p", {}, t("spot.noCameras"));
    const camera = this.cameras[this.index];
    this.video = el("video", { class: "live-video", muted: true, autoplay: true, playsinline: true });
    this.status = el("span", { class: "status" }, t("player.connecting"));
    const taken = new Set(this.check.evidence.map((e) => e.camera_id));
    const result = el("select", { id: "spot-result" },
      el("option", { value: "pass" }, t("spot.pass")), el("option", { value: "issues" }, t("spot.issues")));
    const remark = el("textarea", { id: "spot-remark", rows: "2", maxlength: "2000" });
    return el("div", { class: "spot-walk" },
      el("div", { class: "spot-head" },
        el("strong", {}, this.check.institution_name || this.check.institution_id), " · ",
        el("span", { id: "spot-position" }, t("spot.camera", { n: this.index + 1, total: this.cameras.length })), " · ",
        el("span", {}, camera.name, " (", t(`role.${camera.role}`), ")"),
        taken.has(camera.id) ? el("span", { class: "badge" }, t("spot.captured")) : null),
      el("div", { class: "tile single", dataset: { camera: camera.id } }, this.video,
        el("div", { class: "caption" }, this.status)),
      el("div", { class: "toolbar" },
        el("button", { type: "button", disabled: this.index === 0, onclick: () => this.#move(-1) }, t("spot.prev")),
        el("button", { type: "button", id: "spot-capture", onclick: () => this.#capture(camera) }, t("spot.capture")),
        el("button", { type: "button", id: "spot-next", disabled: this.index >= this.cameras.length - 1,
          onclick: () => this.#move(1) }, t("spot.next"))),
      el("div", { class: "evidence" }, ...this.check.evidence.map((e) =>
        el("figure", {}, el("img", { src: e.url, alt: e.camera_name || e.camera_id }),
          el("figcaption", {}, e.camera_name || e.camera_id)))),
      el("div", { class: "spot-finish" },
        el("label", {}, t("spot.result"), result),
        el("label", {}, t("spot.remark"), remark),
        el("button", { type: "button", id: "spot-finish", onclick: () => this.#finish(result.value, remark.value) },
          t("spot.finish"))));
  }

  #startPlayer() {
    const camera = this.cameras[this.index];
    this.player = new LivePlayer(this.video, camera.id, (state, detail) => {
      this.video.parentElement.dataset.state = state;
      this.status.textContent = state === "playing" ? t(`player.${detail}`)
        : state === "failed" ? `${t("player.failed")}: ${detail}` : t("player.connecting");
    });
    this.player.start();
  }

  #stopPlayer() {
    if (this.player) this.player.stop();
    this.player = null;
  }

  #move(step) {
    this.index = Math.max(0, Math.min(this.cameras.length - 1, this.index + step));
    this.render();
  }

  async #capture(camera) {
    try {
      const evidence = await api(`/api/spot-checks/${this.check.id}/evidence`, { method: "POST", body: { camera_id: camera.id } });
      this.check.evidence.push(evidence);
      this.message = "";
      if (this.index < this.cameras.length - 1) this.index += 1;  // on to the next camera
    } catch (error) {
      this.message = `${t("error.generic")}: ${error.message}`;
    }
    this.render();
  }

  async #finish(result, remark) {
    try {
      await api(`/api/spot-checks/${this.check.id}/finish`, { method: "POST", body: { result, remark: remark || null } });
      this.check = null;
      this.message = t("spot.finished");
      await this.loadHistory();
    } catch (error) {
      this.message = `${t("error.generic")}: ${error.message}`;
    }
    this.render();
  }

  #historyTable() {
    if (!this.history.length) return el("p", { class: "muted" }, t("spot.none"));
    return el("table", { class: "history" },
      el("thead", {}, el("tr", {}, el("th", {}, t("spot.at")), el("th", {}, t("tree.title")), el("th", {}, t("spot.by")),
        el("th", {}, t("spot.result")), el("th", {}, t("spot.remark")), el("th", {}, t("spot.evidence")))),
      el("tbody", {}, ...this.history.map((check) => el("tr", { dataset: { check: String(check.id) } },
        el("td", {}, formatTime(check.started_at)),
        el("td", {}, check.institution_name || check.institution_id),
        el("td", {}, check.username),
        el("td", {}, check.result ? t(`spot.${check.result}`) : t("spot.inProgress")),
        el("td", {}, check.remark || ""),
        el("td", { class: "thumbs" }, ...check.evidence.map((e) =>
          el("a", { href: e.url, target: "_blank", rel: "noopener" }, el("img", { src: e.url, alt: e.camera_name || e.camera_id }))))))));
  }
}
