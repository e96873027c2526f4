// Start-up, log-in and routing between the pages (#/live, #/spot-check, #/playback, #/violations).

import { api, ApiError } from "./api.js";
import { applyStatic, lang, onLangChange, registerViolationTypes, setLang, t } from "./i18n.js";
import { LiveGrid } from "./grid.js";
import { mountPlayback } from "./playback.js";
import { SpotCheckPage } from "./spotcheck.js";
import { OrgTree } from "./tree.js";
import { UplinkPage } from "./uplink.js";
import { ViolationsPage } from "./violations.js";

const $ = (selector) => document.querySelector(selector);
let session = null;  // { user, tree, grid, spot, playback, violations }

function toggleLang() { setLang(lang() === "en" ? "zh-CN" : "en"); }

async function boot() {
  applyStatic(document);
  $("#lang-toggle").addEventListener("click", toggleLang);
  $("#login-lang").addEventListener("click", toggleLang);
  $("#login-form").addEventListener("submit", login);
  $("#logout").addEventListener("click", logout);
  for (const button of document.querySelectorAll("[data-grid]")) {
    button.addEventListener("click", () => session && session.grid.layout(Number(button.dataset.grid)));
  }
  window.addEventListener("hashchange", route);
  // Leaving the page (or the tab going into the back-forward cache) ends its live views on the server now,
  // not when the server notices the silence.
  window.addEventListener("pagehide", () => {
    if (session) { session.grid.stopAll(); session.spot.hide(); session.violations.hide(); }
  });
  onLangChange(() => { if (session) $("#user-name").textContent = session.user.display_name || session.user.username; });
  try {
    enter(await api("/api/me"));
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 401)) console.error(error);
    showLogin();
  }
}

function showLogin() {
  $(".topbar").hidden = true;
  $("#app-view").hidden = true;
  $("#login-view").hidden = false;
  $("#login-form [name=username]").focus();
}

async function login(event) {
  event.preventDefault();
  const form = new FormData(event.target);
  $("#login-error").textContent = "";
  try {
    const answer = await api("/api/auth/login", { method: "POST",
      body: { username: form.get("username"), password: form.get("password") } });
    event.target.reset();
    enter(answer.user);
  } catch (error) {
    $("#login-error").textContent = error instanceof ApiError && error.status === 401 ? t("auth.failed") : error.message;
  }
}

async function logout() {
  try { await api("/api/auth/logout", { method: "POST" }); } catch { /* the session may be gone already */ }
  if (session) {
    session.grid.stopAll();
    session.spot.hide();
    session.violations.hide();
    session.uplink.hide();
    session.tree.stop();
  }
  session = null;
  showLogin();
}

async function enter(user) {
  registerViolationTypes(await api("/api/violation-types"));
  const grid = new LiveGrid($("#grid"));
  const tree = new OrgTree($("#org-tree"), (camera) => {
    if (location.hash !== "#/live" && location.hash !== "") location.hash = "#/live";
    grid.play(camera);
  });
  session = { user, tree, grid, spot: new SpotCheckPage($("#page-spot-check"), tree), playback: null,
    violations: new ViolationsPage($("#page-violations")), uplink: new UplinkPage($("#page-uplink")) };
  $("#user-name").textContent = user.display_name || user.username;
  $("#login-view").hidden = true;
  $(".topbar").hidden = false;
  $("#app-view").hidden = false;
  await tree.load();
  route();
  // The first time this browser opens the live grid, it shows the first cameras of the user's unit at once.
  if (grid.firstOpen && !location.hash.replace(/^#\/?/, "").replace(/^live/, "")) {
    grid.fill(tree.cameraOrder().filter((camera) => camera.health && camera.health.state === "online"));
  }
}

function route() {
  if (!session) return;
  const page = (location.hash.replace(/^#\//, "") || "live").split("?")[0];
  const known = ["live", "spot-check", "playback", "violations", "uplink"].includes(page) ? page : "live";
  for (const section of document.querySelectorAll(".page")) section.hidden = section.id !== `page-${known}`;
  for (const link of document.querySelectorAll("[data-route]")) link.classList.toggle("active", link.dataset.route === known);
  if (known === "spot-check") session.spot.show();
  else session.spot.hide();
  if (known === "playback" && !session.playback) session.playback = mountPlayback($("#playback-root"), session);
  if (known === "violations") session.violations.show();
  else session.violations.hide();
  if (known === "uplink") session.uplink.show();
  else session.uplink.hide();
}

boot();
