// The gateway's web page in real headless Chromium (Debian's), driven by playwright-core:
// enroll two dogs through the form, upload one of their photos and see the right dog first,
// check that a name with HTML in it is shown as text, browse the gallery, delete a dog.
// Usage: node web_test.mjs http://127.0.0.1:PORT TOKEN SCREENSHOT.png
import { chromium } from "playwright-core";
import assert from "node:assert/strict";

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

await page.getByRole("tab", { name: "Model" }).click();
await page.fill("#token", token);
await page.dispatchEvent("#token", "change");

async function enroll(id, name, seeds) {
  await page.getByRole("tab", { name: "Enroll" }).click();
  await page.getByLabel("Dog id").fill(id);
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Photos of the dog's face").setInputFiles(await Promise.all(seeds.map(photo)));
  await page.getByRole("button", { name: "Enroll" }).click();
  await page.waitForFunction(() => /Enrolled|error/i.test(document.getElementById("enroll-status").textContent));
  assert.match(await page.textContent("#enroll-status"), /^Enrolled /);
}
const evil = "<img src=x onerror=alert(1)>Bella";
await enroll("bella", evil, [1, 2]);
await enroll("rex", "Rex", [3, 4]);

// Search with one of Rex's photos: Rex first.
await page.getByRole("tab", { name: "Search" }).click();
await page.setInputFiles("#search-file", await photo(4));
await page.waitForSelector("#results li");
const first = page.locator("#results li").first();
assert.equal(await first.getAttribute("data-dog-id"), "rex");
assert.equal(await first.locator(".dog-name").textContent(), "Rex");
assert.match(await first.textContent(), /Same dog/);
// Bella's name is text, not markup.
await page.setInputFiles("#search-file", await photo(1));
await page.waitForFunction(() => document.querySelector("#results li")?.getAttribute("data-dog-id") === "bella");
assert.equal(await page.locator("#results li .dog-name").first().textContent(), evil);
assert.equal(await page.locator("#results li .dog-name img").count(), 0);
await page.screenshot({ path: screenshot, fullPage: true });

// Gallery and delete.
await page.getByRole("tab", { name: "Gallery" }).click();
await page.waitForSelector("#gallery-body tr[data-dog-id=rex]");
assert.match(await page.textContent("#gallery-count"), /^2 dog/);
await page.getByRole("button", { name: "Delete Rex" }).click();
await page.waitForSelector("#gallery-body tr[data-dog-id=rex]", { state: "detached" });
const left = await (await fetch(base + "/api/dogs")).json();
assert.deepEqual(left.dogs.map((d) => d.dog_id), ["bella"]);

// Map and model status render.
await page.getByRole("tab", { name: "Map" }).click();
await page.waitForSelector("#map svg, #map p");
await page.getByRole("tab", { name: "Model" }).click();
await page.waitForFunction(() => /Serving model:/.test(document.getElementById("model-info").textContent));

assert.deepEqual(errors, []);
await browser.close();
console.log("web test passed");
