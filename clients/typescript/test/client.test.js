// The TypeScript client (built into dist/) against real servers that tests/clients/serve.py
// starts on loopback (the shipped default model, a generated training set, a TLS gateway with
// a token that follows the trainer). Every method, a training job watched to the end and
// promoted, a bad photo, a missing token, TLS with the development certificates.
//   DOGSEARCH_BUILD=<build dir> node --test test/
const test = require("node:test");
const assert = require("node:assert/strict");
const { spawn } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");
const readline = require("node:readline");
const { Client, DogSearchError, answerName } = require("../dist/index.js");

const root = path.resolve(__dirname, "..", "..", "..");
const build = process.env.DOGSEARCH_BUILD || path.join(root, "build");

let servers, env, client;

test.before(async () => {
  servers = spawn("/usr/bin/python3", [path.join(root, "tests/clients/serve.py"), build],
                  { stdio: ["pipe", "pipe", "inherit"] });
  const lines = readline.createInterface({ input: servers.stdout });
  env = await new Promise((resolve, reject) => {
    lines.on("line", (l) => { if (l.startsWith("{")) resolve(JSON.parse(l)); });
    servers.on("exit", (c) => reject(new Error(`serve.py exited ${c}`)));
  });
  client = new Client(`localhost:${env.gateway}`, {
    token: env.gateway_token, caCert: env.ca_cert,
    trainerAddress: `127.0.0.1:${env.trainer}`, trainerToken: env.trainer_token, trainerTls: false,
  });
  for (let i = 0; i < 300; i++) {
    try { if ((await client.status()).serving_version) break; } catch (e) { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
});

test.after(() => {
  client?.close();
  servers?.stdin.end();
});

const photo = (dog, shot) => path.join(env.photos, `dog${dog}`, `${shot}.png`);

test("gallery round trip", async () => {
  const dog = await client.enroll("rex", "Rex", [photo(1, 0), fs.readFileSync(photo(1, 1))], "brown");
  assert.equal(dog.dog_id, "rex");
  assert.equal(dog.photos.length, 2);
  await assert.rejects(client.enroll("rex", "Rex", [photo(1, 2)]),
                       (e) => e instanceof DogSearchError && e.codeName === "ALREADY_EXISTS");
  const added = await client.addPhotos("rex", [photo(1, 2), photo(1, 0)]);
  assert.deepEqual([added.added_photo_ids.length, added.duplicate_photo_ids.length], [1, 1]);
  await client.enroll("bella", "Bella", [photo(2, 0)]);
  await client.enroll("max", "Max", [photo(3, 0)]);
  const r = await client.search(photo(1, 0), { k: 3 });
  assert.equal(r.matches[0].dog_id, "rex");
  assert.ok(r.matches[0].distance < 1e-3);
  assert.equal(answerName(r), "MATCH");
  assert.equal((await client.verify(photo(2, 0), photo(2, 0))).same_dog, true);
  assert.equal((await client.dog("bella")).name, "Bella");
  const ids = [];
  for await (const d of client.dogs(2)) ids.push(d.dog_id);  // Two pages.
  assert.deepEqual(ids.sort(), ["bella", "max", "rex"]);
  const rex = await client.dog("rex");
  const after = await client.removePhoto("rex", rex.photos[0].photo_id);
  assert.equal(after.photos.length, rex.photos.length - 1);
  await client.delete("max");
  await assert.rejects(client.dog("max"), (e) => e.codeName === "NOT_FOUND");
  assert.equal((await client.status()).dogs, "2");
});

test("errors name the problem", async () => {
  await assert.rejects(client.search(Buffer.from("certainly not a photo")),
                       (e) => e.codeName === "INVALID_ARGUMENT" && /photo/.test(e.details));
  const anonymous = new Client(`localhost:${env.gateway}`, { caCert: env.ca_cert });
  await assert.rejects(anonymous.enroll("nobody", "Nobody", [photo(4, 0)]),
                       (e) => e.codeName === "UNAUTHENTICATED" && /token/.test(e.details));
  anonymous.close();
  const plain = new Client(`127.0.0.1:${env.gateway}`, { timeoutMs: 3000 });
  await assert.rejects(plain.status(), DogSearchError);
  plain.close();
  await assert.rejects(client.upgrade("../etc"), (e) => e.codeName === "INVALID_ARGUMENT");
});

test("import a folder", async () => {
  const progress = [];
  const s = await client.importFolder(env.photos, (done, total) => progress.push(`${done}/${total}`));
  assert.equal(progress.at(-1), "6/6");
  // dog1's and dog2's photos are enrolled already as rex and bella (above): their folders fail,
  // each with the server's reason; the other four are enrolled with all their photos.
  assert.deepEqual(s.errors.map((e) => e.dogId), ["dog1", "dog2"]);
  assert.match(s.errors[0].message, /already enrolled/);
  assert.deepEqual([s.dogs, s.photos], [4, 12]);
  const again = await client.importFolder(env.photos);
  assert.deepEqual([again.dogs, again.photos, again.skipped], [0, 0, 12]);
});

test("train, watch, promote", async () => {
  const job = await client.train("dogs", {
    epochs: 2, identities_per_batch: 4, photos_per_identity: 3, learning_rate: 0.003,
    warmup_steps: 2, validation_fraction: 0.25,
    model: { architecture: "dogfacenet_resnet", input: { width: 32, height: 32 }, embedding_dim: 16,
             stage_widths: [8, 16], blocks_per_stage: 1 },
  }, { label: "ts" });
  const states = [];
  for await (const p of client.watch(job.id, 600000)) states.push(p.state);
  assert.equal(states.at(-1), "JOB_STATE_SUCCEEDED");
  assert.ok((await client.jobs()).some((j) => j.id === job.id));
  assert.equal((await client.job(job.id)).label, "ts");
  const trained = (await client.checkpoints()).checkpoints.filter((c) => c.job_id === job.id)
    .map((c) => c.manifest.version);
  assert.ok(trained.length);
  await assert.rejects(client.promote("no-such-version"), (e) => e.codeName === "NOT_FOUND");
  await client.promote(trained.at(-1));
  let st;
  for (let i = 0; i < 600; i++) {
    st = await client.status();
    if (st.serving_version === trained.at(-1) && st.rollout.state === "ROLLOUT_STATE_CONVERGED") break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(st.serving_version, trained.at(-1));
  assert.equal(st.rollout.promoted_version, trained.at(-1));
  await assert.rejects(client.cancel(job.id), DogSearchError);  // Finished already.
});
