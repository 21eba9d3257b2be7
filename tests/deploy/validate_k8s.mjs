// Validates every manifest in deploy/k8s against the Kubernetes API schemas, offline
// (kubernetes-models' JSON schemas; no cluster, no network), plus dogsearch's own rules:
// every container runs as non-root, sets resource requests and a readiness probe, reads tokens
// from Secrets (never literals), and every object is in the dogsearch namespace.
// Usage: node validate_k8s.mjs DIR   (exit 0 = all valid; prints one line per object)
import fs from "node:fs";
import path from "node:path";
import { parseAllDocuments } from "yaml";

const dirs = process.argv.slice(2);
let failures = 0;
const fail = (where, msg) => { failures++; console.log(`FAIL ${where}: ${msg}`); };
// The index StatefulSet's replica count and the gateway's --index_shards must agree: one
// target per pod, index-0 .. index-(N-1), in pod order (the record -> shard hash depends on it).
let indexReplicas = null;
let gatewayShards = null;

for (const dir of dirs)
for (const file of fs.readdirSync(dir).filter((f) => f.endsWith(".yaml")).sort()) {
  const docs = parseAllDocuments(fs.readFileSync(path.join(dir, file), "utf8"));
  for (const doc of docs) {
    if (doc.errors.length) { fail(file, doc.errors.map(String).join("; ")); continue; }
    const obj = doc.toJSON();
    if (!obj) continue;
    const where = `${file} ${obj.kind}/${obj.metadata?.name}`;
    const [group, version] = obj.apiVersion.includes("/") ? obj.apiVersion.split("/") : ["", obj.apiVersion];
    const modulePath = `kubernetes-models/${group ? group + "/" : ""}${version}/${obj.kind}`;
    let Model;
    try { Model = (await import(modulePath))[obj.kind]; }
    catch (e) { fail(where, `unknown apiVersion/kind (${modulePath})`); continue; }
    try { new Model(obj).validate(); }
    catch (e) { fail(where, e.message); continue; }
    if (obj.kind !== "Namespace" && obj.metadata?.namespace !== "dogsearch") fail(where, "not in namespace dogsearch");
    const pod = obj.spec?.template?.spec;
    if (pod) {
      if (!pod.securityContext?.runAsNonRoot) fail(where, "pod does not set runAsNonRoot");
      for (const c of pod.containers) {
        if (!c.readinessProbe && obj.kind !== "Job") fail(where, `container ${c.name} has no readinessProbe`);
        const shards = (c.args || []).find((a) => a.startsWith("--index_shards="));
        if (obj.kind === "Deployment" && shards) gatewayShards = { where, list: shards.slice(15).split(",") };
        if (!c.resources?.requests) fail(where, `container ${c.name} has no resource requests`);
        for (const e of c.env || []) {
          if (/TOKEN/.test(e.name) && !e.valueFrom?.secretKeyRef) fail(where, `${e.name} is not from a Secret`);
        }
      }
    }
    if (obj.kind === "StatefulSet" && obj.metadata?.name === "index") indexReplicas = obj.spec.replicas;
    console.log(`ok   ${where}`);
  }
}
if (indexReplicas !== null && gatewayShards) {
  const { where, list } = gatewayShards;
  const inOrder = list.every((t, i) => t.startsWith(`index-${i}.index.`));
  if (list.length !== indexReplicas || !inOrder) {
    fail(where, `--index_shards lists ${list.length} targets (${list.map((t) => t.split(".")[0]).join(",")}); ` +
      `the index StatefulSet has ${indexReplicas} replicas: list index-0 .. index-${indexReplicas - 1} in order ` +
      `(and move the records: docs/OPERATIONS.md, "Changing the shard count")`);
  } else {
    console.log(`ok   --index_shards matches the index StatefulSet (${indexReplicas} shards)`);
  }
}
if (failures) { console.log(`${failures} problem(s)`); process.exit(1); }
console.log("all manifests valid");
