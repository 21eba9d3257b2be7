// The gateway's web page in real headless Chromium (Debian's), driven by playwright-core:
// enroll two dogs through the form (one photo cropped), upload one of their photos and see the
// right dog as the match, crop and rotate a query before searching, see the "may not be
// enrolled" answer for a dog that is not, check that a name with HTML in it is shown as text,
// browse the gallery, delete a dog, see photo thumbnails on the map (fetched with the token,
// as reads may need it), keep the token for the browser session only, and see a page on
// another site refused when it posts to the API.
// The gateway runs with --target_fpir=1e-6 (run_web_test.sh): a photo identical to an enrolled
// one is a match. The stranger is a different kind of picture (grey noise, not a colour grid):
// the default model puts two colour grids as close as two photos of one dog (0.12 apart),
// so a never-enrolled grid would be an honest "match" by its calibration.
// Usage: node web_test.mjs http://127.0.0.1:PORT TOKEN SCREENSHOT.png
import { chromium } from "playwright-core";
import assert from "node:assert/strict";
import http from "node:http";

const [base, token, screenshot] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const page = await browser.newPage();
const errors = [];
page.on("pageerror", (e) => errors.push(String(e)));
page.on("dialog", (d) => d.accept());
await page.goto(base);

// Distinct JPEG "photos" drawn by the browser itself (no data set needed).
async function photo(seed) {
  const b64 = await page.evaluate((s) => {
    const c = document.createElement("canvas");
    c.width = c.height = 128;
    const g = c.getContext("2d");
    for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) {
      g.fillStyle = `hsl(${(s * 47 + x * 31 + y * 17) % 360},${40 + (s * 13 + x * y) % 50}%,${30 + (x + y + s) % 40}%)`;
      g.fillRect(x * 16, y * 16, 16, 16);
    }
    return c.toDataURL("image/jpeg", 0.92).split(",")[1];
  }, seed);
  return { name: `dog-${seed}.jpg`, mimeType: "image/jpeg", buffer: Buffer.from(b64, "base64") };
}
// Seeded grey noise in 4-px cells, drawn the same way.
async function noise(seed) {
  const b64 = await page.evaluate((s) => {
    const c = document.createElement("canvas");
    c.width = c.height = 128;
    const g = c.getContext("2d");
    let x = s * 2654435761 >>> 0;
    for (let i = 0; i < 32 * 32; i++) {
      x = (x * 1103515245 + 12345) >>> 0;
      const v = x >>> 24;
      g.fillStyle = `rgb(${v},${v},${v})`;
      g.fillRect((i % 32) * 4, Math.floor(i / 32) * 4, 4, 4);
    }
    return c.toDataURL("image/jpeg", 0.92).split(",")[1];
  }, seed);
  return { name: `stranger-${seed}.jpg`, mimeType: "image/jpeg", buffer: Buffer.from(b64, "base64") };
}

await page.getByRole("tab", { name: "Model" }).click();
await page.fill("#token", token);
await page.dispatchEvent("#token", "change");
// Kept for this browser session only unless "remember" is ticked.
assert.equal(await page.evaluate(() => sessionStorage.getItem("dogsearch-token")), token);
assert.equal(await page.evaluate(() => localStorage.getItem("dogsearch-token")), null);

async function enroll(id, name, seeds) {
  await page.getByRole("tab", { name: "Enroll" }).click();
  await page.getByLabel("Dog id").fill(id);
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Photos of the dog's face").setInputFiles(await Promise.all(seeds.map(photo)));
  await page.waitForSelector(`#crop-photos li:nth-child(${seeds.length})`);
  await page.getByRole("button", { name: "Enroll" }).click();
  await page.waitForFunction(() => /Enrolled|error/i.test(document.getElementById("enroll-status").textContent));
  assert.match(await page.textContent("#enroll-status"), /^Enrolled /);
}
const evil = "<img src=x onerror=alert(1)>Bella";
await enroll("bella", evil, [1, 2]);
await enroll("rex", "Rex", [3, 4]);

// A third dog enrolled with a cropped photo: the crop (a square of the photo) is what is sent.
await page.getByRole("tab", { name: "Enroll" }).click();
await page.getByLabel("Dog id").fill("max");
await page.getByLabel("Name").fill("Max");
await page.getByLabel("Photos of the dog's face").setInputFiles([await photo(5)]);
await page.getByRole("button", { name: "Crop photo 1" }).click();
await page.getByRole("button", { name: "Use this crop" }).click();
await page.waitForFunction(() => /-crop\.jpg$/.test(document.querySelector("#crop-photos li span")?.textContent || ""));
await page.getByRole("button", { name: "Enroll" }).click();
await page.waitForFunction(() => /Enrolled|error/i.test(document.getElementById("enroll-status").textContent));
assert.match(await page.textContent("#enroll-status"), /^Enrolled Max \(max\) with 1 photo/);

// Search with one of Rex's photos, whole: Rex is the match, the others only "also similar".
async function searchWith(seed, button, draw = photo) {
  await page.setInputFiles("#search-file", await draw(seed));
  await page.waitForSelector("#cropper[open]");
  await page.getByRole("button", { name: button }).click();
}
await page.getByRole("tab", { name: "Search" }).click();
await searchWith(4, "Use the whole photo");
await page.waitForFunction(() => document.getElementById("search-answer").dataset.answer);
assert.equal(await page.getAttribute("#search-answer", "data-answer"), "SEARCH_ANSWER_MATCH");
assert.match(await page.textContent("#search-answer"), /^Match: Rex, \d+% likely/);
const first = page.locator("#results li").first();
assert.equal(await first.getAttribute("data-dog-id"), "rex");
assert.equal(await first.locator(".dog-name").textContent(), "Rex");
assert.match(await first.textContent(), /Likely this dog/);
for (const other of await page.locator("#results li").all()) {
  if ((await other.getAttribute("data-dog-id")) !== "rex") assert.match(await other.textContent(), /Also similar/);
}
assert.doesNotMatch(await page.textContent("#results"), /Same dog/);
// Dogs are ranked by score (best photo blended with the dog's other photos): Bella, two photos,
// shows her score beside her best photo's distance; Max, one photo, has no other score to show.
assert.match(await page.locator('#results li[data-dog-id="bella"]').textContent(),
             /Also similar · distance \d\.\d{3} · score \d\.\d{3}/);
assert.doesNotMatch(await page.locator('#results li[data-dog-id="max"]').textContent(), /score/);

// Crop and rotate a query: drag a square on the canvas, turn the slider; the photo sent is the
// square at the photo's own resolution (the 128-px photo is shown 3.75x on the 480-px canvas).
await page.setInputFiles("#search-file", await photo(3));
await page.waitForSelector("#cropper[open]");
const box = await page.locator("#crop-canvas").boundingBox();
await page.mouse.move(box.x + box.width * 0.2, box.y + box.height * 0.25);
await page.mouse.down();
await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.45, { steps: 5 });
await page.mouse.move(box.x + box.width * 0.7, box.y + box.height * 0.6, { steps: 5 });
await page.mouse.up();
await page.locator("#crop-rotate").fill("15");
assert.equal(await page.textContent("#crop-angle"), "15");
await page.getByRole("button", { name: "Use this crop" }).click();
await page.waitForFunction(() => {
  const q = document.getElementById("query-photo");
  return q && /-crop\.jpg$/.test(q.dataset.name) && q.complete && q.naturalWidth > 0;
});
const [qw, qh] = await page.evaluate(() => [document.getElementById("query-photo").naturalWidth, document.getElementById("query-photo").naturalHeight]);
assert.equal(qw, qh);
assert.ok(Math.abs(qw - Math.round(0.5 * 480 / 3.75)) <= 1, `crop side ${qw}`);
await page.waitForFunction(() => document.getElementById("search-answer").dataset.answer && document.querySelector("#results li"));

// A dog that was never enrolled: said plainly, and no dog is called likely.
await searchWith(9, "Use the whole photo", noise);
await page.waitForFunction(() => /may not be enrolled/.test(document.getElementById("search-answer").textContent));
assert.equal(await page.getAttribute("#search-answer", "data-answer"), "SEARCH_ANSWER_NO_MATCH");
assert.equal(await page.locator("#results .yes, #results .maybe").count(), 0);
assert.ok(await page.locator("#results li").count() >= 1);

// Bella's name is text, not markup.
await searchWith(1, "Use the whole photo");
await page.waitForFunction(() => document.querySelector("#results li")?.getAttribute("data-dog-id") === "bella");
assert.equal(await page.locator("#results li .dog-name").first().textContent(), evil);
assert.equal(await page.locator("#results li .dog-name img").count(), 0);
await page.screenshot({ path: screenshot, fullPage: true });

// Gallery and delete.
await page.getByRole("tab", { name: "Gallery" }).click();
await page.waitForSelector("#gallery-body tr[data-dog-id=rex]");
assert.match(await page.textContent("#gallery-count"), /^3 dog/);
await page.getByRole("button", { name: "Delete Rex" }).click();
await page.waitForSelector("#gallery-body tr[data-dog-id=rex]", { state: "detached" });
const left = await (await fetch(base + "/api/dogs")).json();
assert.deepEqual(left.dogs.map((d) => d.dog_id).sort(), ["bella", "max"]);

// The map shows each photo as a thumbnail (bella's 2 and max's 1).
await page.getByRole("tab", { name: "Map" }).click();
await page.waitForSelector("#map svg");
assert.equal(await page.locator("#map svg g.point image").count(), 3);
// With a token set, photos are fetched with it and shown from blob URLs.
await page.waitForFunction(() => [...document.querySelectorAll("#map svg g.point image")].every((i) => i.getAttribute("href")));
for (const href of await page.locator("#map svg g.point image").evaluateAll((ims) => ims.map((i) => i.getAttribute("href")))) {
  assert.match(href, /^blob:/);
}
assert.equal(await page.locator("#map svg g.point[data-dog-id=bella]").count(), 2);
await page.waitForFunction(() => [...document.querySelectorAll("#map svg image")].every((i) => i.getBBox().width > 0));
await page.getByRole("tab", { name: "Model" }).click();
await page.waitForFunction(() => /Serving model:/.test(document.getElementById("model-info").textContent));

// A page on another site posting to the API (a form or a no-cors fetch needs no CORS
// permission to be sent) is refused before anything is read.
const other = http.createServer((q, r) => { r.setHeader("content-type", "text/html"); r.end("<p>another site</p>"); });
await new Promise((ok) => other.listen(0, "127.0.0.1", ok));
const evilPage = await browser.newPage();
await evilPage.goto(`http://localhost:${other.address().port}/`);
const refused = evilPage.waitForResponse((r) => r.url().startsWith(base + "/api/dogs"));
await evilPage.evaluate(async (b) => {
  const f = new FormData();
  f.append("dog_id", "intruder"); f.append("name", "Intruder");
  f.append("photos", new Blob([new Uint8Array(100)], { type: "image/jpeg" }), "x.jpg");
  await fetch(b + "/api/dogs", { method: "POST", mode: "no-cors", body: f }).catch(() => {});
}, base);
assert.equal((await refused).status(), 403);
other.close();
const after = await (await fetch(base + "/api/dogs")).json();
assert.ok(!after.dogs.some((d) => d.dog_id === "intruder"));

assert.deepEqual(errors, []);
await browser.close();
console.log("web test passed");
