// The seed's story end to end with the TypeScript client (built: npm run build): train a model
// on the trainer's data set, watch it, promote it (the gateway upgrades itself), enroll the
// dogs of a folder, search with one of their photos.
//   node examples/story.js --gateway H:P --trainer H:P --token T --dataset NAME --photos DIR
const fs = require("node:fs");
const path = require("node:path");
const { parseArgs } = require("node:util");
const { Client, answerName, IMAGE_EXTENSIONS } = require("../dist/index.js");

async function main() {
  const { values: a } = parseArgs({ options: {
    gateway: { type: "string", default: "127.0.0.1:50050" },
    trainer: { type: "string", default: "127.0.0.1:50053" },
    token: { type: "string" }, trainer_token: { type: "string" }, ca_cert: { type: "string" },
    dataset: { type: "string" }, epochs: { type: "string", default: "5" }, photos: { type: "string" },
  } });
  const ds = new Client(a.gateway, { token: a.token, trainerAddress: a.trainer,
                                     trainerToken: a.trainer_token, caCert: a.ca_cert });
  try {
    const job = await ds.train(a.dataset, { epochs: Number(a.epochs) }, { label: "story" });
    console.log("training", job.id);
    let last;
    for await (const p of ds.watch(job.id)) {
      process.stdout.write(`\r epoch ${p.epoch} step ${p.step}/${p.total_steps} ` +
                           `verification ${p.validation.verification_accuracy.toFixed(3)}`);
      last = p;
    }
    console.log();
    if (!last || last.state !== "JOB_STATE_SUCCEEDED") throw new Error(`training: ${last?.state_reason}`);
    const version = last.best_checkpoint_version || last.last_checkpoint_version;
    await ds.promote(version);
    console.log("promoted", version, "- the gateway upgrades itself");
    const s = await ds.importFolder(a.photos, (d, n) => process.stdout.write(`\r${d}/${n} dogs`));
    console.log(`\nenrolled ${s.dogs} dogs, ${s.photos} photos; errors: ${JSON.stringify(s.errors)}`);
    const dog = fs.readdirSync(a.photos).sort()[0];
    const file = fs.readdirSync(path.join(a.photos, dog))
      .find((f) => IMAGE_EXTENSIONS.includes(path.extname(f).toLowerCase()));
    const r = await ds.search(path.join(a.photos, dog, file));
    console.log(`${dog}/${file}: ${answerName(r)} -> ${r.matches[0].name} (model ${r.model_version})`);
  } finally {
    ds.close();
  }
}
main().catch((e) => { console.error(e.message); process.exit(1); });
