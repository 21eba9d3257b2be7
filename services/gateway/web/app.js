"use strict";
const $ = (id) => document.getElementById(id);
// Every user-provided string goes through textContent, never innerHTML.
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v; else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}
// The access token lives for this browser session (sessionStorage) unless the user asks to
// remember it on this device (localStorage).
function token() {
  return sessionStorage.getItem("dogsearch-token") || localStorage.getItem("dogsearch-token") || "";
}
function headers() {
  const t = token();
  return t ? { "Authorization": "Bearer " + t } : {};
}
async function api(method, path, body) {
  const res = await fetch(path, { method, body, headers: headers() });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(data.error || ("HTTP " + res.status));
  return data;
}
function photoUrl(id) { return "/api/photos/" + encodeURIComponent(id); }
// Sets node[attr] to the photo: a plain URL without a token; with one, the photo is fetched
// with the Authorization header (an <img> cannot send it) and shown from a blob URL.
function withPhoto(node, id, attr = "src") {
  if (!token()) { node.setAttribute(attr, photoUrl(id)); return node; }
  fetch(photoUrl(id), { headers: headers() })
    .then((r) => (r.ok ? r.blob() : null))
    .then((b) => {
      if (!b) return;
      const url = URL.createObjectURL(b);
      node.addEventListener("load", () => URL.revokeObjectURL(url), { once: true });
      node.setAttribute(attr, url);
    })
    .catch(() => {});
  return node;
}
function pct(x) { return Math.round(x * 100) + "%"; }

// Tabs
document.querySelectorAll("nav button").forEach((b) => b.addEventListener("click", () => {
  document.querySelectorAll("nav button").forEach((o) => o.setAttribute("aria-selected", String(o === b)));
  document.querySelectorAll("main section").forEach((s) => { s.hidden = s.id !== "tab-" + b.dataset.tab; });
  if (b.dataset.tab === "gallery") loadGallery(true);
  if (b.dataset.tab === "map") loadMap();
  if (b.dataset.tab === "model") loadModel();
}));

// Crop tool: shows `file` on a canvas; the user drags a square and may rotate the photo about
// the square's centre. Resolves with a JPEG of the square at the photo's own resolution, the
// file itself ("whole photo"), or null (cancelled).
async function cropPhoto(file) {
  const img = await createImageBitmap(file);
  const dlg = $("cropper"), cv = $("crop-canvas"), g = cv.getContext("2d"), rot = $("crop-rotate");
  const W = cv.width, scale = Math.min(W / img.width, W / img.height);
  const ox = (W - img.width * scale) / 2, oy = (W - img.height * scale) / 2;
  const side0 = 0.8 * Math.min(img.width, img.height) * scale;
  let sq = { x: (W - side0) / 2, y: (W - side0) / 2, s: side0 };
  rot.value = "0"; $("crop-angle").textContent = "0";
  const angle = () => Number(rot.value) * Math.PI / 180;
  function draw() {
    const cx = sq.x + sq.s / 2, cy = sq.y + sq.s / 2;
    g.setTransform(1, 0, 0, 1, 0, 0); g.fillStyle = "#222"; g.fillRect(0, 0, W, W);
    g.translate(cx, cy); g.rotate(angle()); g.translate(-cx, -cy);
    g.drawImage(img, ox, oy, img.width * scale, img.height * scale);
    g.setTransform(1, 0, 0, 1, 0, 0);
    g.fillStyle = "rgba(0,0,0,0.45)";
    g.fillRect(0, 0, W, sq.y); g.fillRect(0, sq.y + sq.s, W, W - sq.y - sq.s);
    g.fillRect(0, sq.y, sq.x, sq.s); g.fillRect(sq.x + sq.s, sq.y, W - sq.x - sq.s, sq.s);
    g.strokeStyle = "#fff"; g.lineWidth = 2; g.strokeRect(sq.x, sq.y, sq.s, sq.s);
  }
  const at = (ev) => { const r = cv.getBoundingClientRect(); return [(ev.clientX - r.left) * W / r.width, (ev.clientY - r.top) * W / r.height]; };
  let start = null;
  cv.onpointerdown = (ev) => { start = at(ev); cv.setPointerCapture(ev.pointerId); };
  cv.onpointermove = (ev) => {
    if (!start) return;
    const [x, y] = at(ev), s = Math.max(Math.abs(x - start[0]), Math.abs(y - start[1]));
    if (s < 8) return;
    sq = { x: x < start[0] ? start[0] - s : start[0], y: y < start[1] ? start[1] - s : start[1], s };
    draw();
  };
  cv.onpointerup = () => { start = null; };
  rot.oninput = () => { $("crop-angle").textContent = rot.value; draw(); };
  draw();
  dlg.showModal();
  const choice = await new Promise((resolve) => {
    $("crop-use").onclick = () => resolve("crop");
    $("crop-whole").onclick = () => resolve("whole");
    $("crop-cancel").onclick = () => resolve(null);
    dlg.oncancel = () => resolve(null);
  });
  dlg.close();
  if (choice !== "crop") { img.close(); return choice === "whole" ? file : null; }
  // Output pixel q shows the photo point p with screen(p) = centre + (q - side/2) * scale.
  const side = Math.max(1, Math.round(sq.s / scale));
  const out = document.createElement("canvas"); out.width = out.height = side;
  const o = out.getContext("2d"), cx = sq.x + sq.s / 2, cy = sq.y + sq.s / 2;
  o.translate(side / 2, side / 2); o.scale(1 / scale, 1 / scale); o.rotate(angle());
  o.translate(ox - cx, oy - cy); o.scale(scale, scale); o.drawImage(img, 0, 0);
  img.close();
  const blob = await new Promise((r) => out.toBlob(r, "image/jpeg", 0.95));
  return new File([blob], file.name.replace(/\.[^.]*$/, "") + "-crop.jpg", { type: "image/jpeg" });
}

// Search: the three answers of SearchResponse.answer, said plainly. Only the top dog may be
// called likely; the other dogs are only "also similar".
const ANSWERS = {
  SEARCH_ANSWER_MATCH: (m, r) => "Match: " + m.name + ", " + pct(r.top_confidence || 0) + " likely to be this dog.",
  SEARCH_ANSWER_POSSIBLE_MATCH: (m, r) => "Possibly " + m.name + " (" + pct(r.top_confidence || 0) + " likely): not a confident match — compare the photos.",
  SEARCH_ANSWER_NO_MATCH: () => "No confident match: this dog may not be enrolled.",
};
async function search(file) {
  const photo = await cropPhoto(file);
  if (!photo) return;
  const status = $("search-status"), answer = $("search-answer"), list = $("results");
  list.replaceChildren();
  $("query-box").replaceChildren(el("img", { class: "query", id: "query-photo", src: URL.createObjectURL(photo), alt: "Your photo", "data-name": photo.name }));
  answer.className = "answer"; answer.textContent = "Searching…"; status.textContent = "";
  const form = new FormData(); form.append("photo", photo, photo.name); form.append("k", "5");
  try {
    const r = await api("POST", "/api/search", form);
    const ms = Math.round((r.embed_seconds + r.search_seconds) * 1000);
    const kind = r.answer || "SEARCH_ANSWER_NO_MATCH";
    if (r.matches.length === 0) { answer.textContent = "The gallery is empty."; return; }
    answer.textContent = ANSWERS[kind](r.matches[0], r);
    answer.className = "answer" + (kind === "SEARCH_ANSWER_NO_MATCH" ? " none" : "");
    answer.dataset.answer = kind;
    status.textContent = (kind === "SEARCH_ANSWER_NO_MATCH" ? "Most similar enrolled dogs" : "Best first") +
      " (" + ms + " ms, model " + r.model_version + ", " + r.gallery_photos + " photos enrolled)";
    for (const m of r.matches) {
      const photos = el("div", { class: "row" });
      for (const p of m.photos) photos.append(withPhoto(el("img", { class: "thumb", alt: "Photo of " + m.name, title: "distance " + p.distance.toFixed(3) }), p.photo_id));
      const top = m.rank === 1 && kind !== "SEARCH_ANSWER_NO_MATCH";
      // Dogs are ranked by score (their best photo blended with all their candidate photos);
      // where that differs from the best photo's distance, show both.
      const score = m.score === undefined ? m.distance : m.score;
      const shown = "distance " + m.distance.toFixed(3) +
        (Math.abs(score - m.distance) > 5e-4 ? " · score " + score.toFixed(3) : "");
      const verdict = !top ? el("div", { class: "no" }, "Also similar · " + shown) :
        el("div", { class: kind === "SEARCH_ANSWER_MATCH" ? "yes" : "maybe" },
          (kind === "SEARCH_ANSWER_MATCH" ? "Likely this dog, " : "Possibly this dog, ") + pct(r.top_confidence || 0));
      const item = el("li", { class: "match card", "data-dog-id": m.dog_id },
        el("span", { class: "rank" }, m.rank),
        el("div", {}, el("strong", { class: "dog-name" }, m.name), " ", el("span", { class: "muted" }, "(" + m.dog_id + ")"), verdict),
        photos);
      if (top) {
        const bar = el("div", { class: "bar", role: "img", "aria-label": "confidence " + pct(r.top_confidence || 0) }, el("span"));
        bar.firstChild.style.width = pct(r.top_confidence || 0);
        item.children[1].append(bar);
      }
      list.append(item);
    }
  } catch (e) { answer.className = "answer error"; answer.textContent = e.message; }
}
$("search-file").addEventListener("change", (e) => { if (e.target.files[0]) search(e.target.files[0]); e.target.value = ""; });
const drop = $("drop");
drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (e) => { e.preventDefault(); drop.classList.remove("over"); if (e.dataTransfer.files[0]) search(e.dataTransfer.files[0]); });

// Enroll: each chosen photo is listed with a Crop button; a cropped photo replaces the original.
let enrollPhotos = [];
function listEnrollPhotos() {
  $("crop-photos").replaceChildren(...enrollPhotos.map((f, i) => {
    const crop = el("button", { type: "button", class: "danger", "aria-label": "Crop photo " + (i + 1) }, "Crop");
    crop.addEventListener("click", async () => {
      const c = await cropPhoto(f);
      if (c) { enrollPhotos[i] = c; listEnrollPhotos(); }
    });
    return el("li", {}, el("img", { class: "thumb", src: URL.createObjectURL(f), alt: "Photo " + (i + 1) }), el("span", {}, f.name), crop);
  }));
}
$("enroll-photos").addEventListener("change", (e) => { enrollPhotos = [...e.target.files]; listEnrollPhotos(); });
$("enroll-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const status = $("enroll-status");
  const form = new FormData();
  form.append("dog_id", $("enroll-id").value.trim());
  form.append("name", $("enroll-name").value.trim());
  form.append("notes", $("enroll-notes").value);
  for (const f of enrollPhotos) form.append("photos", f, f.name);
  status.className = ""; status.textContent = "Enrolling…";
  try {
    const d = await api("POST", "/api/dogs", form);
    status.textContent = "Enrolled " + d.name + " (" + d.dog_id + ") with " + d.photos.length + " photo(s).";
    e.target.reset(); enrollPhotos = []; listEnrollPhotos(); refreshBadge();
  } catch (err) { status.className = "error"; status.textContent = err.message; }
});

// Gallery
let nextToken = "";
async function loadGallery(reset) {
  const body = $("gallery-body"), status = $("gallery-status");
  if (reset) { body.replaceChildren(); nextToken = ""; }
  try {
    const r = await api("GET", "/api/dogs?page_size=50&page_token=" + encodeURIComponent(nextToken));
    $("gallery-count").textContent = r.total_dogs + " dog(s) enrolled";
    for (const d of r.dogs) {
      const del = el("button", { class: "danger", type: "button", "aria-label": "Delete " + d.name }, "Delete");
      del.addEventListener("click", async () => {
        if (!confirm("Delete " + d.name + " and all their photos?")) return;
        try { await api("DELETE", "/api/dogs/" + encodeURIComponent(d.dog_id)); row.remove(); refreshBadge(); status.textContent = "Deleted " + d.name + "."; }
        catch (err) { status.className = "error"; status.textContent = err.message; }
      });
      const img = d.photos.length ? withPhoto(el("img", { class: "thumb", alt: "Photo of " + d.name, loading: "lazy" }), d.photos[0].photo_id) : "";
      const row = el("tr", { "data-dog-id": d.dog_id }, el("td", {}, img), el("td", { class: "dog-name" }, d.name), el("td", {}, d.dog_id), el("td", {}, d.photos.length), el("td", {}, del));
      body.append(row);
    }
    nextToken = r.next_page_token;
    $("gallery-more").hidden = !nextToken;
  } catch (err) { status.className = "error"; status.textContent = err.message; }
}
$("gallery-more").addEventListener("click", () => loadGallery(false));

// Map
async function loadMap() {
  const box = $("map"), tip = $("map-tip");
  box.replaceChildren(el("p", { class: "muted" }, "Computing…"));
  try {
    const r = await api("GET", "/api/map");
    if (r.points.length < 2) { box.replaceChildren(el("p", {}, "Enroll a few dogs to see the map.")); return; }
    const xs = r.points.map((p) => p.x), ys = r.points.map((p) => p.y);
    const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
    const W = 900, H = 600, pad = 20, NS = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(NS, "svg");
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`); svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", `Embedding map of ${r.points.length} photos`);
    // Distinct hues for neighbouring dogs: golden-angle steps over the dogs in order.
    const dogIndex = new Map();
    for (const p of r.points) if (!dogIndex.has(p.dog_id)) dogIndex.set(p.dog_id, dogIndex.size);
    const hue = (id) => Math.round((dogIndex.get(id) * 137.508) % 360);
    const T = 30;  // Thumbnail side in map units.
    for (const p of r.points) {
      const x = pad + (p.x - x0) / ((x1 - x0) || 1) * (W - 2 * pad - T), y = pad + (p.y - y0) / ((y1 - y0) || 1) * (H - 2 * pad - T);
      const gp = document.createElementNS(NS, "g");
      gp.setAttribute("class", "point"); gp.setAttribute("data-dog-id", p.dog_id);
      const frame = document.createElementNS(NS, "rect");
      frame.setAttribute("x", x - 2); frame.setAttribute("y", y - 2); frame.setAttribute("width", T + 4); frame.setAttribute("height", T + 4);
      frame.setAttribute("fill", `hsl(${hue(p.dog_id)},${dogIndex.get(p.dog_id) % 2 ? 55 : 80}%,${dogIndex.get(p.dog_id) % 3 ? 45 : 35}%)`);
      const im = document.createElementNS(NS, "image");
      withPhoto(im, p.photo_id, "href"); im.setAttribute("x", x); im.setAttribute("y", y);
      im.setAttribute("width", T); im.setAttribute("height", T); im.setAttribute("preserveAspectRatio", "xMidYMid slice");
      const t = document.createElementNS(NS, "title"); t.textContent = p.dog_name + " (" + p.dog_id + ")";
      gp.append(frame, im, t);
      gp.addEventListener("mouseenter", (ev) => {
        tip.replaceChildren(withPhoto(el("img", { class: "thumb", alt: "" }), p.photo_id), el("div", {}, p.dog_name));
        tip.style.display = "block"; tip.style.left = (ev.clientX + 12) + "px"; tip.style.top = (ev.clientY + 12) + "px";
      });
      gp.addEventListener("mouseleave", () => { tip.style.display = "none"; });
      svg.append(gp);
    }
    box.replaceChildren(svg);
  } catch (err) { box.replaceChildren(el("p", { class: "error" }, err.message)); }
}

// Model
const STATES = { UPGRADE_STATE_IDLE: "no upgrade has run", UPGRADE_STATE_LOADING_MODEL: "loading the new model",
  UPGRADE_STATE_REEMBEDDING: "re-embedding the gallery", UPGRADE_STATE_FLIPPING: "switching over",
  UPGRADE_STATE_SUCCEEDED: "succeeded", UPGRADE_STATE_FAILED: "failed (the old model keeps serving)" };
let upgradeTimer = null;
async function loadModel() {
  try {
    const m = await api("GET", "/api/model");
    const met = m.metrics || {};
    $("model-info").replaceChildren(
      el("div", {}, el("strong", {}, "Serving model: "), m.serving_version || "none yet"),
      el("div", { class: "muted" }, (m.spec ? m.spec.architecture + ", " + m.spec.embedding_dim + "-d" : "") +
        (met.verification_accuracy ? ` · verification ${pct(met.verification_accuracy)} · rank-1 ${pct(met.rank1)} · threshold ${Number(met.threshold).toFixed(3)}` : "")),
      el("div", {}, m.dogs + " dogs, " + m.photos + " photos"));
    const u = m.upgrade || {};
    const parts = [el("div", {}, "Latest upgrade: " + (STATES[u.state] || u.state) + (u.to_version ? " → " + u.to_version : ""))];
    if (u.state === "UPGRADE_STATE_REEMBEDDING") {
      const total = Number(u.photos_total) || 0, done = Number(u.photos_done) || 0;
      parts.push(el("progress", { max: String(total || 1), value: String(done), "aria-label": "Re-embedding progress" }), el("span", {}, ` ${done} / ${total} photos`));
    }
    if (u.state_reason) parts.push(el("div", { class: "error" }, u.state_reason));
    $("upgrade-info").replaceChildren(...parts);
    clearTimeout(upgradeTimer);
    if (["UPGRADE_STATE_LOADING_MODEL", "UPGRADE_STATE_REEMBEDDING", "UPGRADE_STATE_FLIPPING"].includes(u.state)) upgradeTimer = setTimeout(loadModel, 1000);
  } catch (err) { $("model-info").replaceChildren(el("p", { class: "error" }, err.message)); }
}
$("upgrade-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  try { await api("POST", "/api/upgrade", JSON.stringify({ version: $("upgrade-version").value.trim() })); }
  catch (err) { $("upgrade-info").replaceChildren(el("p", { class: "error" }, err.message)); return; }
  loadModel();
});
$("token").value = token();
$("remember-token").checked = !!localStorage.getItem("dogsearch-token");
function storeToken() {
  const t = $("token").value;
  sessionStorage.setItem("dogsearch-token", t);
  if ($("remember-token").checked && t) localStorage.setItem("dogsearch-token", t);
  else localStorage.removeItem("dogsearch-token");
}
$("token").addEventListener("change", storeToken);
$("remember-token").addEventListener("change", storeToken);

async function refreshBadge() {
  try { const m = await api("GET", "/api/model"); $("model-badge").textContent = (m.serving_version ? "model " + m.serving_version : "no model yet") + " · " + m.dogs + " dogs"; }
  catch (e) { $("model-badge").textContent = ""; }
}
refreshBadge();
