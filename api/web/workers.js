// Worker processes (工作进程): which process runs which cameras, what each costs, how often it was restarted and
// why; an operator moves a camera to another worker. Bureau-level operators only (a worker runs every town's cameras).

import { api, ApiError, el } from "./api.js";
import { formatTime, onLangChange, t } from "./i18n.js";

const REFRESH_MS = 3000;

export class WorkersPage {
  constructor(root) {
    this.root = root;
    this.timer = null;
    this.workers = [];
    this.status = el("p", { class: "muted", id: "workers-status" });
    this.table = el("div", { id: "workers-table" });
    this.camera = el("select", { id: "workers-move-camera" });
    this.target = el("select", { id: "workers-move-target" });
    this.moveMessage = el("span", { class: "muted", id: "workers-move-message" });
    this.moveForm = el("form", { id: "workers-move", onsubmit: (event) => { event.preventDefault(); this.move(); } },
      el("label", {}, t("workers.camera"), " ", this.camera), " ",
      el("label", {}, t("workers.to"), " ", this.target), " ",
      el("button", { type: "submit" }, t("workers.move")), " ", this.moveMessage);
    onLangChange(() => { this.root.replaceChildren(); this.show(); });
  }

  async show() {
    if (!this.root.firstChild) {
      this.root.append(el("h2", {}, t("workers.title")), this.status, this.table, el("h3", {}, t("workers.moveTitle")), this.moveForm);
    }
    await this.load();
    clearInterval(this.timer);
    this.timer = setInterval(() => this.load(), REFRESH_MS);
  }

  hide() { clearInterval(this.timer); this.timer = null; }

  async load() {
    try {
      this.workers = await api("/api/workers");
      this.status.textContent = this.workers.length ? "" : t("workers.inProcess");
    } catch (error) {
      this.workers = [];
      this.status.textContent = error instanceof ApiError && error.status === 403 ? t("workers.bureauOnly") : error.message;
    }
    this.render();
  }

  render() {
    const head = ["workers.index", "workers.state", "workers.pid", "workers.cameras", "workers.cpu", "workers.memory",
      "workers.restarts", "workers.lastExit"];
    this.table.replaceChildren(this.workers.length ? el("table", { class: "workers" },
      el("thead", {}, el("tr", {}, ...head.map((key) => el("th", {}, t(key))))),
      el("tbody", {}, ...this.workers.map((w) => el("tr", { dataset: { worker: w.index, state: w.state } },
        el("td", {}, String(w.index)),
        el("td", {}, t(`workers.${w.state}`) + (w.next_start_at ? ` (${formatTime(w.next_start_at)})` : "")),
        el("td", {}, w.pid ? String(w.pid) : "—"),
        el("td", { title: w.cameras.join(", ") }, String(w.cameras.length)),
        el("td", {}, `${w.cpu_percent.toFixed(1)} %`),
        el("td", {}, `${Math.round(w.rss_bytes / 1e6)} MB`),
        el("td", {}, String(w.restarts)),
        el("td", {}, w.last_exit ? `${w.last_exit} · ${formatTime(w.last_exit_at)}` : "—"))))) : "");
    const cameras = this.workers.flatMap((w) => w.cameras.map((id) => [id, w.index])).sort();
    const chosen = this.camera.value;
    this.camera.replaceChildren(...cameras.map(([id, index]) => el("option", { value: id }, `${id} (${t("workers.index")} ${index})`)));
    if (chosen) this.camera.value = chosen;
    const target = this.target.value;
    this.target.replaceChildren(...this.workers.map((w) => el("option", { value: String(w.index) }, String(w.index))));
    if (target) this.target.value = target;
    this.moveForm.hidden = !this.workers.length;
  }

  async move() {
    const camera = this.camera.value;
    try {
      await api(`/api/cameras/${encodeURIComponent(camera)}/worker`, { method: "PUT", body: { worker: Number(this.target.value) } });
      this.moveMessage.textContent = t("workers.moved");
    } catch (error) {
      this.moveMessage.textContent = error.message;
    }
    await this.load();
  }
}
