// Accounts (账户): one's own password and API tokens, and for administrators every account of their unit, its
// role and unit, disabling, unlocking after wrong passwords, and password resets.

import { api, el } from "./api.js";
import { formatTime, onLangChange, t } from "./i18n.js";

export class UsersPage {
  constructor(root, user, tree) {
    this.root = root;
    this.user = user;
    this.tree = tree;  // OrgTree: unit names and ids
    this.roles = [];
    this.status = el("p", { class: "muted", id: "users-status", role: "status" });
    onLangChange(() => this.render());
  }

  get admin() { return this.user.permissions.includes("manage_users"); }

  async show() {
    try {
      [this.roles, this.tokens, this.accounts] = await Promise.all([
        api("/api/roles"), api("/api/me/tokens"), this.admin ? api("/api/users") : Promise.resolve([])]);
    } catch (error) {
      this.status.textContent = error.message;
    }
    this.render();
  }

  hide() {}

  say(text) { this.status.textContent = text; }

  async act(work, done) {
    try {
      const answer = await work();
      this.say(done);
      await this.show();
      return answer;
    } catch (error) {
      this.say(`${t("error.generic")}: ${error.message}`);
      return null;
    }
  }

  render() {
    if (!this.roles.length) { this.root.replaceChildren(this.status); return; }
    this.root.replaceChildren(
      el("h2", {}, t("users.mine")), this.ownAccount(),
      el("h3", {}, t("users.tokens")), this.tokenList(),
      ...(this.admin ? [el("h2", {}, t("users.title")), this.accountTable(), this.newAccountForm()] : []),
      this.status);
  }

  roleLabel(name) { return (this.roles.find((r) => r.role === name) || { label: name }).label; }

  unitName(id) { return (this.tree.units().get(id) || { name: id }).name; }

  ownAccount() {
    const form = el("form", { class: "users-form", id: "password-form", onsubmit: (event) => {
      event.preventDefault();
      const data = new FormData(form);
      this.act(() => api("/api/me/password", { method: "POST",
        body: { current_password: data.get("current"), new_password: data.get("new") } }), t("users.passwordChanged"))
        .then(() => { location.reload(); });  // every session of the account ended: log in again
    } },
    el("p", {}, `${this.user.display_name || this.user.username} · ${this.user.role_label || this.user.role} · ${this.unitName(this.user.org_unit_id)}`),
    el("label", {}, t("users.currentPassword"), el("input", { name: "current", type: "password", required: true, autocomplete: "current-password" })),
    el("label", {}, t("users.newPassword"), el("input", { name: "new", type: "password", required: true, minlength: 8, autocomplete: "new-password" })),
    el("button", { type: "submit" }, t("users.changePassword")));
    return form;
  }

  tokenList() {
    const name = el("input", { name: "name", required: true, maxlength: 100, placeholder: t("users.tokenName") });
    const days = el("input", { name: "days", type: "number", min: 1, max: 3660, placeholder: t("users.tokenDays") });
    const secret = el("p", { class: "token-secret", id: "token-secret" });
    const form = el("form", { class: "users-form", id: "token-form", onsubmit: async (event) => {
      event.preventDefault();
      const made = await this.act(() => api("/api/me/tokens", { method: "POST",
        body: { name: name.value, expires_in_days: days.value ? Number(days.value) : null } }), t("users.tokenMade"));
      if (made) document.querySelector("#token-secret").textContent = `${t("users.tokenOnce")} ${made.token}`;
    } }, name, days, el("button", { type: "submit" }, t("users.newToken")));
    const rows = (this.tokens || []).map((token) => el("tr", { dataset: { token: token.id } },
      el("td", {}, token.name), el("td", {}, formatTime(token.created_at)),
      el("td", {}, token.expires_at ? formatTime(token.expires_at) : t("users.never")),
      el("td", {}, token.last_used_at ? formatTime(token.last_used_at) : "—"),
      el("td", {}, token.revoked_at ? t("users.revoked") : el("button", { type: "button", onclick: () =>
        this.act(() => api(`/api/me/tokens/${token.id}`, { method: "DELETE" }), t("users.tokenRevoked")) }, t("users.revoke")))));
    return el("div", {}, el("table", { class: "users", id: "tokens-table" },
      el("thead", {}, el("tr", {}, ...["tokenName", "created", "expires", "lastUsed", "state"].map((k) => el("th", {}, t(`users.${k}`))))),
      el("tbody", {}, ...rows)), form, secret);
  }

  accountTable() {
    const units = [...this.tree.units().values()];
    const rows = this.accounts.map((account) => {
      const role = el("select", { "aria-label": t("users.role") },
        ...this.roles.map((r) => el("option", { value: r.role, selected: r.role === account.role }, r.label)));
      const unit = el("select", { "aria-label": t("users.unit") },
        ...units.map((u) => el("option", { value: u.id, selected: u.id === account.org_unit_id }, u.name)));
      const save = () => this.act(() => api(`/api/users/${account.id}`, { method: "PATCH",
        body: { role: role.value, org_unit_id: unit.value } }), t("users.saved"));
      role.addEventListener("change", save);
      unit.addEventListener("change", save);
      const state = account.disabled ? t("users.disabled")
        : account.locked_until ? `${t("users.locked")} ${formatTime(account.locked_until)}` : t("users.active");
      const reset = () => {
        const password = prompt(t("users.resetPrompt"));
        if (password) this.act(() => api(`/api/users/${account.id}/password`, { method: "POST", body: { password } }), t("users.passwordReset"));
      };
      return el("tr", { dataset: { user: account.username } },
        el("td", {}, account.username), el("td", {}, account.display_name || ""), el("td", {}, role), el("td", {}, unit),
        el("td", { class: "user-state" }, state),
        el("td", {},
          el("button", { type: "button", class: "toggle", onclick: () => this.act(() => api(`/api/users/${account.id}`,
            { method: "PATCH", body: { disabled: !account.disabled } }), t("users.saved")) },
          account.disabled ? t("users.enable") : t("users.disable")),
          account.locked_until ? el("button", { type: "button", class: "unlock", onclick: () => this.act(() =>
            api(`/api/users/${account.id}`, { method: "PATCH", body: { unlock: true } }), t("users.saved")) }, t("users.unlock")) : null,
          el("button", { type: "button", onclick: reset }, t("users.reset"))));
    });
    return el("table", { class: "users", id: "users-table" },
      el("thead", {}, el("tr", {}, ...["username", "displayName", "role", "unit", "state", "actions"].map((k) => el("th", {}, t(`users.${k}`))))),
      el("tbody", {}, ...rows));
  }

  newAccountForm() {
    const units = [...this.tree.units().values()];
    const form = el("form", { class: "users-form", id: "new-user-form", onsubmit: (event) => {
      event.preventDefault();
      const data = Object.fromEntries(new FormData(form));
      if (!data.display_name) delete data.display_name;
      this.act(() => api("/api/users", { method: "POST", body: data }), t("users.created"));
    } },
    el("input", { name: "username", required: true, placeholder: t("users.username"), autocomplete: "off" }),
    el("input", { name: "display_name", placeholder: t("users.displayName") }),
    el("input", { name: "password", type: "password", required: true, minlength: 8, placeholder: t("users.newPassword"), autocomplete: "new-password" }),
    el("select", { name: "role" }, ...this.roles.map((r) => el("option", { value: r.role }, r.label))),
    el("select", { name: "org_unit_id" }, ...units.map((u) => el("option", { value: u.id }, u.name))),
    el("button", { type: "submit" }, t("users.create")));
    return form;
  }
}
