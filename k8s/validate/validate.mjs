#!/usr/bin/env node
// Offline checks of the rendered k8s/ manifests (no cluster needed).
//
//   kubectl kustomize k8s/ | node k8s/validate/validate.mjs [schema] [FILE|-]
//       Every document against the official Kubernetes OpenAPI schemas (the
//       kubernetes-models package: ajv validators compiled from them), plus a
//       strict pass that rejects unknown fields (TypeScript excess-property
//       checks against the same package's types: the schemas alone allow any
//       extra field), plus the references between the documents (ConfigMaps,
//       Secrets and their keys, volumes, the StatefulSets' Services, the
//       ServiceMonitors' Services and ports).
//       Unknown apiVersion/kind: error. Custom resources: the Prometheus
//       Operator's (monitoring.coreos.com, @kubernetes-models/prometheus-operator).
//   node validate.mjs configmaps FILE NAME=DIR/*.EXT...
//       The rendered ConfigMap NAME (kustomize's hash suffix allowed) holds
//       exactly the files DIR/*.EXT, byte for byte.
//   node validate.mjs settings FILE COMPOSE SHELLFILE SERVICE=STATEFULSET...
//       docker-compose.yml, the rendered StatefulSets and the SERVER_SETTINGS
//       of SHELLFILE (env/pgenv.sh) agree on the server's -c settings; each
//       compose SERVICE and its STATEFULSET on image and POSTGRES_DB; and
//       the replication-job-env ConfigMap on the database names.
//   node validate.mjs pgbouncer FILE COMPOSE SERVICE=DEPLOYMENT SOURCE=STATEFULSET
//       The compose PgBouncer SERVICE and the rendered DEPLOYMENT use the same
//       image and both point appdb (PGBOUNCER_DB_HOST/_NAME) at the source:
//       compose's SOURCE service and its POSTGRES_DB, the STATEFULSET's
//       Service and POSTGRES_DB.
//   node validate.mjs versions FILE SOURCE TARGET
//       The overlay of env/k8s-overlay.sh, rendered: postgres:SOURCE in the
//       StatefulSet postgres-source, postgres:TARGET in postgres-target and
//       in every Job.
//   node validate.mjs audit FILE COMPOSE SERVICE=STATEFULSET
//       The compose audit SERVICE and the rendered STATEFULSET run pgparity
//       audit from the same image, on the same metrics port (also the
//       container port, the Service's and its prometheus.io/port), with
//       --state-dir on a named volume / a volumeClaimTemplate.
//
// Prints "ok: ..." or "error: ... — fix" lines; exits 0, 1 (a check
// failed) or 2 (usage, unreadable input).
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import YAML from "yaml";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
let failed = false;
const ok = (msg) => console.log(`ok: ${msg}`);
const error = (msg) => {
  console.log(`error: ${msg}`);
  failed = true;
};
const usage = (msg) => {
  console.error(`validate.mjs: ${msg}`);
  process.exit(2);
};
const label = (d) => `${d.kind}/${d.metadata?.name ?? "?"}`;

function readDocs(file) {
  let text;
  try {
    text = fs.readFileSync(!file || file === "-" ? 0 : file, "utf8");
  } catch (e) {
    usage(`cannot read ${file || "stdin"}: ${e.message}`);
  }
  const docs = [];
  for (const doc of YAML.parseAllDocuments(text)) {
    if (doc.errors.length) {
      error(`YAML of ${file || "stdin"} does not parse: ${doc.errors[0].message.split("\n")[0]} — fix the manifest`);
      continue;
    }
    const value = doc.toJS();
    if (value !== null && value !== undefined) docs.push(value);
  }
  if (docs.length === 0 && !failed) error(`${file || "stdin"} holds no documents — render with: kubectl kustomize k8s/`);
  return docs;
}

// --- schema ----------------------------------------------------------------

// The kubernetes-models module of an apiVersion/kind, e.g. apps/v1 StatefulSet
// -> kubernetes-models/apps/v1/StatefulSet, v1 Secret -> kubernetes-models/v1/Secret.
// The custom resources k8s/ uses come from their own packages of the same
// family (the operator's CRD schemas): monitoring.coreos.com/v1
// ServiceMonitor -> @kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor.
const crdPackages = { "monitoring.coreos.com": "@kubernetes-models/prometheus-operator" };
function modelModule(apiVersion, kind) {
  if (typeof apiVersion !== "string" || typeof kind !== "string") return null;
  if (!/^([a-z0-9.-]+\/)?v[0-9a-z]+$/.test(apiVersion) || !/^[A-Z][A-Za-z0-9]*$/.test(kind)) return null;
  const crd = crdPackages[apiVersion.split("/")[0]];
  return crd ? `${crd}/${apiVersion}/${kind}` : `kubernetes-models/${apiVersion}/${kind}`;
}

async function loadModel(apiVersion, kind) {
  const mod = modelModule(apiVersion, kind);
  if (!mod) return null;
  let exports;
  try {
    exports = await import(mod);
  } catch {
    return null;
  }
  const Model = exports[kind];
  // Only top-level kinds (StatefulSetSpec etc. have no apiVersion/kind).
  if (typeof Model !== "function" || Model.apiVersion !== apiVersion || Model.kind !== kind) return null;
  return { Model, mod };
}

// JSON text of a value, one property per line, with the JSON path of each
// line, so a TypeScript diagnostic's line names the field.
function serialize(value, pathOf, lines, paths, indent = "", prefix = "") {
  const p = pathOf;
  if (Array.isArray(value) && value.length) {
    lines.push(`${prefix}[`);
    paths.push(p);
    value.forEach((v, i) => {
      serialize(v, `${p}[${i}]`, lines, paths, indent + "  ", indent + "  ");
      if (i < value.length - 1) lines[lines.length - 1] += ",";
    });
    lines.push(`${indent}]`);
    paths.push(p);
  } else if (value && typeof value === "object" && !Array.isArray(value) && Object.keys(value).length) {
    lines.push(`${prefix}{`);
    paths.push(p);
    const keys = Object.keys(value);
    keys.forEach((k, i) => {
      const sub = /^[A-Za-z_][A-Za-z0-9_]*$/.test(k) ? (p ? `${p}.${k}` : k) : `${p}[${JSON.stringify(k)}]`;
      serialize(value[k], sub, lines, paths, indent + "  ", `${indent}  ${JSON.stringify(k)}: `);
      if (i < keys.length - 1) lines[lines.length - 1] += ",";
    });
    lines.push(`${indent}}`);
    paths.push(p);
  } else {
    lines.push(`${prefix}${JSON.stringify(value)}`);
    paths.push(p);
  }
}

// Unknown fields: the OpenAPI schemas have no additionalProperties:false, so
// ajv accepts any extra (e.g. misspelled) field; the API server would reject
// it at apply time (strict field validation). TypeScript's excess-property
// check against the package's interfaces (generated from the same schemas)
// finds them offline.
async function strictPass(checked) {
  const ts = (await import("typescript")).default;
  const virt = path.join(here, "__rendered__.ts");
  const lines = [];
  const owner = []; // per line: [doc index, json path]
  checked.forEach(({ doc, mod }, i) => {
    lines.push(`import type { I${doc.kind} as T${i} } from ${JSON.stringify(mod)};`);
    owner.push(null);
  });
  checked.forEach(({ doc }, i) => {
    const body = [];
    const paths = [];
    serialize(doc, "", body, paths, "", `export const d${i}: T${i} = `);
    body[body.length - 1] += ";";
    for (let j = 0; j < body.length; j++) {
      lines.push(body[j]);
      owner.push([i, paths[j]]);
    }
  });
  const text = lines.join("\n") + "\n";
  const options = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
    lib: ["lib.es2022.d.ts"],
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
  };
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile } = host;
  host.getSourceFile = (f, lang, ...rest) =>
    f === virt ? ts.createSourceFile(f, text, lang) : getSourceFile.call(host, f, lang, ...rest);
  host.fileExists = (f) => f === virt || fileExists.call(host, f);
  host.readFile = (f) => (f === virt ? text : readFile.call(host, f));
  const program = ts.createProgram([virt], options, host);
  const problems = [];
  for (const d of ts.getPreEmitDiagnostics(program)) {
    const msg = ts.flattenDiagnosticMessageText(d.messageText, " ").replace(/\s+/g, " ");
    if (d.file?.fileName === virt && d.start !== undefined) {
      const line = d.file.getLineAndCharacterOfPosition(d.start).line;
      const o = owner[line];
      if (o) {
        problems.push({ ...checked[o[0]], where: o[1] || "(document)", msg, unknownField: d.code === 2353 || d.code === 2561 });
        continue;
      }
    }
    problems.push({ doc: null, where: "", msg });
  }
  return problems;
}

// TypeScript's wording -> the manifest's.
function tidy(msg) {
  const m = /may only specify known properties, (?:and|but) '"?([^'"]+)"?' does not exist in type 'I([A-Za-z0-9]+)'(?:\. Did you mean to write '"?([^'"]+)"?'\?)?/.exec(msg);
  return m ? `unknown field ${m[1]} (a ${m[2]} has no such field${m[3] ? `; did you mean ${m[3]}?` : ""})` : msg;
}

// References between the documents that kustomize does not check: a
// misspelled ConfigMap name keeps no hash suffix and the pod never starts.
function referencePass(docs) {
  const problems = [];
  const byKind = (k) => docs.filter((d) => d.kind === k);
  const ns = (d) => d.metadata?.namespace ?? "";
  const find = (kind, name, n) => docs.find((d) => d.kind === kind && d.metadata?.name === name && ns(d) === n);
  const keysOf = (d) =>
    d.kind === "Secret"
      ? new Set([...Object.keys(d.data ?? {}), ...Object.keys(d.stringData ?? {})])
      : new Set([...Object.keys(d.data ?? {}), ...Object.keys(d.binaryData ?? {})]);
  const need = (owner, kind, name, key, optional, what) => {
    if (optional) return;
    const target = find(kind, name, ns(owner));
    if (!target) problems.push(`${label(owner)}: ${what} refers to ${kind} ${name}, which is not in the manifests`);
    else if (key !== undefined && !keysOf(target).has(key))
      problems.push(`${label(owner)}: ${what} refers to key ${key} of ${kind} ${name}, which has no such key`);
  };
  for (const d of docs) {
    const pod = d.kind === "Pod" ? d.spec : d.spec?.jobTemplate?.spec?.template?.spec ?? d.spec?.template?.spec;
    if (!pod || typeof pod !== "object") continue;
    const volumes = new Set((pod.volumes ?? []).map((v) => v.name));
    for (const v of pod.volumes ?? []) {
      for (const [kind, src, name] of [
        ["ConfigMap", v.configMap, v.configMap?.name],
        ["Secret", v.secret, v.secret?.secretName],
      ]) {
        if (!src) continue;
        need(d, kind, name, undefined, src.optional, `volume ${v.name}`);
        for (const item of src.items ?? []) need(d, kind, name, item.key, src.optional, `volume ${v.name}`);
      }
    }
    for (const c of [...(pod.initContainers ?? []), ...(pod.containers ?? [])]) {
      for (const m of c.volumeMounts ?? [])
        if (!volumes.has(m.name) && !(d.spec?.volumeClaimTemplates ?? []).some((t) => t.metadata?.name === m.name))
          problems.push(`${label(d)}: container ${c.name} mounts volume ${m.name}, which the pod does not define`);
      for (const e of c.envFrom ?? []) {
        if (e.configMapRef) need(d, "ConfigMap", e.configMapRef.name, undefined, e.configMapRef.optional, `container ${c.name} envFrom`);
        if (e.secretRef) need(d, "Secret", e.secretRef.name, undefined, e.secretRef.optional, `container ${c.name} envFrom`);
      }
      for (const e of c.env ?? []) {
        const cm = e.valueFrom?.configMapKeyRef;
        const sk = e.valueFrom?.secretKeyRef;
        if (cm) need(d, "ConfigMap", cm.name, cm.key, cm.optional, `env ${e.name}`);
        if (sk) need(d, "Secret", sk.name, sk.key, sk.optional, `env ${e.name}`);
      }
    }
  }
  for (const s of byKind("StatefulSet")) {
    const svc = find("Service", s.spec?.serviceName, ns(s));
    const podLabels = s.spec?.template?.metadata?.labels ?? {};
    if (!s.spec?.serviceName) problems.push(`${label(s)}: has no serviceName (its headless Service)`);
    else if (!svc) problems.push(`${label(s)}: serviceName ${s.spec.serviceName} names no Service in the manifests`);
    else if (svc.spec?.clusterIP !== "None") problems.push(`${label(s)}: its Service ${svc.metadata.name} is not headless (clusterIP: None)`);
    else if (!Object.entries(svc.spec?.selector ?? { "": "" }).every(([k, v]) => podLabels[k] === v))
      problems.push(`${label(s)}: the selector of Service ${svc.metadata.name} does not match the pod labels`);
  }
  // A ServiceMonitor must find its Service (labels, same namespace) and the
  // named port on it: otherwise Prometheus silently scrapes nothing.
  for (const m of byKind("ServiceMonitor")) {
    const want = Object.entries(m.spec?.selector?.matchLabels ?? {});
    const svcs = byKind("Service").filter((s) => ns(s) === ns(m) && want.every(([k, v]) => s.metadata?.labels?.[k] === v));
    if (!want.length || !svcs.length) problems.push(`${label(m)}: its selector matches no Service in namespace ${ns(m) || "(none)"}`);
    for (const e of m.spec?.endpoints ?? [])
      if (e.port && !svcs.some((s) => (s.spec?.ports ?? []).some((p) => p.name === e.port)))
        problems.push(`${label(m)}: endpoint port ${e.port} is no port name of the Services it selects`);
  }
  return problems;
}

// ajv's errors, one line per field: "spec.replicas: must be integer".
function schemaMessages(e) {
  if (!Array.isArray(e.errors)) return [String(e.message)];
  const byPath = new Map();
  for (const err of e.errors) {
    const p = err.instancePath.split("/").slice(1).map((x) => x.replace(/~1/g, "/").replace(/~0/g, "~"))
      .reduce((acc, x) => (/^[0-9]+$/.test(x) ? `${acc}[${x}]` : acc ? `${acc}.${x}` : x), "");
    // anyOf (quantity, int-or-string): its branches' messages say it all.
    if (err.keyword === "anyOf" || err.keyword === "oneOf") continue;
    let msg = err.message ?? err.keyword;
    if (err.keyword === "enum" && err.params?.allowedValues) msg += ` (${err.params.allowedValues.join(", ")})`;
    const list = byPath.get(p || "(document)") ?? [];
    if (!list.includes(msg)) list.push(msg);
    byPath.set(p || "(document)", list);
  }
  return byPath.size ? [...byPath].map(([p, msgs]) => `${p}: ${msgs.join(" or ")}`) : [String(e.message)];
}

async function schemaCmd(file) {
  const docs = readDocs(file);
  if (failed) return;
  const checked = [];
  let schemaErrors = 0;
  for (const doc of docs) {
    if (typeof doc !== "object" || Array.isArray(doc)) {
      error(`a document is not a mapping — fix the manifest`);
      continue;
    }
    const found = await loadModel(doc.apiVersion, doc.kind);
    if (!found) {
      error(`${label(doc)}: unknown apiVersion/kind ${doc.apiVersion}/${doc.kind} (no Kubernetes schema for it) — use a built-in apiVersion and kind`);
      schemaErrors++;
      continue;
    }
    try {
      new found.Model(doc).validate();
      checked.push({ doc, mod: found.mod, valid: true });
    } catch (e) {
      for (const line of schemaMessages(e)) error(`${label(doc)}: ${line} — fix the manifest (Kubernetes schema)`);
      checked.push({ doc, mod: found.mod, valid: false });
      schemaErrors++;
    }
  }
  if (!schemaErrors && !failed)
    ok(`${docs.length} documents match the Kubernetes OpenAPI schemas of ${kubernetesVersion()} (${[...new Set(docs.map((d) => d.kind))].join(", ")})`);

  // For a document the schemas rejected, only the unknown fields (the rest
  // repeats the schema errors).
  const strict = (await strictPass(checked)).filter((p) => !p.doc || p.valid || p.unknownField);
  for (const p of strict)
    error(p.doc ? `${label(p.doc)}: ${p.where}: ${tidy(p.msg)} — fix the field` : `strict pass: ${p.msg}`);
  if (!strict.length) ok(`no unknown fields in ${checked.length} documents`);

  const refs = referencePass(docs);
  for (const p of refs) error(`${p} — fix the reference`);
  if (!refs.length) ok("references between the documents resolve (ConfigMaps, Secrets, keys, volumes, Services)");
}

function kubernetesVersion() {
  try {
    return `kubernetes-models ${require("kubernetes-models/package.json").version}`;
  } catch {
    return "kubernetes-models";
  }
}

// --- configmaps --------------------------------------------------------------

function configmapsCmd(file, specs) {
  if (!specs.length) usage("configmaps FILE NAME=DIR/*.EXT...");
  const docs = readDocs(file);
  for (const spec of specs) {
    const m = /^([a-z0-9.-]+)=(.+)\/\*(\.[A-Za-z0-9]+)$/.exec(spec);
    if (!m) usage(`bad spec ${spec}: want NAME=DIR/*.EXT`);
    const [, name, dir, ext] = m;
    const cms = docs.filter(
      (d) => d.kind === "ConfigMap" && (d.metadata?.name === name || new RegExp(`^${name.replace(/\./g, "\\.")}-[a-z0-9]{10}$`).test(d.metadata?.name ?? "")),
    );
    if (cms.length !== 1) {
      error(`${cms.length} rendered ConfigMaps named ${name} — generate exactly one with configMapGenerator in k8s/kustomization.yaml`);
      continue;
    }
    const cm = cms[0];
    let files;
    try {
      files = fs.readdirSync(dir).filter((f) => f.endsWith(ext) && fs.statSync(path.join(dir, f)).isFile()).sort();
    } catch (e) {
      error(`cannot read ${dir}/: ${e.code ?? e.message} — run from the repository root`);
      continue;
    }
    const data = { ...(cm.data ?? {}) };
    const binary = cm.binaryData ?? {};
    const before = failed;
    failed = false;
    for (const f of files) {
      const want = fs.readFileSync(path.join(dir, f));
      const have = f in data ? Buffer.from(String(data[f]), "utf8") : f in binary ? Buffer.from(binary[f], "base64") : null;
      if (have === null)
        error(`ConfigMap ${name} lacks ${dir}/${f} — run env/sync-k8s.sh and list generated/${path.basename(dir)}/${f} under configMapGenerator ${name} in k8s/kustomization.yaml`);
      else if (!have.equals(want)) error(`ConfigMap ${name} key ${f} differs from ${dir}/${f} — run env/sync-k8s.sh`);
    }
    for (const k of [...Object.keys(data), ...Object.keys(binary)])
      if (!files.includes(k)) error(`ConfigMap ${name} has ${k}, which is no ${dir}/*${ext} file — remove it from configMapGenerator ${name} in k8s/kustomization.yaml (and run env/sync-k8s.sh)`);
    if (!failed) ok(`ConfigMap ${cm.metadata.name} holds exactly ${dir}/*${ext}, byte for byte (${files.length} files)`);
    failed = failed || before;
  }
}

// --- settings ----------------------------------------------------------------

// "-c k=v" pairs (also "-ck=v" and "--k=v") of an argument list -> Map.
function settingsOf(args) {
  const out = new Map();
  for (let i = 0; i < args.length; i++) {
    let kv = null;
    if (args[i] === "-c") kv = args[++i];
    else if (/^-c./.test(args[i])) kv = args[i].slice(2);
    else if (/^--[a-z_]+=/.test(args[i])) kv = args[i].slice(2);
    if (kv === null || kv === undefined) continue;
    const eq = kv.indexOf("=");
    out.set(kv.slice(0, eq).trim(), kv.slice(eq + 1).trim());
  }
  return out;
}
const fmt = (m) => [...m].map(([k, v]) => `${k}=${v}`).sort().join(" ");
// The differences of settings from the reference's, e.g. "max_wal_senders=5 (not 10), wal_level missing".
const diff = (m, ref) =>
  [...new Set([...ref.keys(), ...m.keys()])]
    .sort()
    .filter((k) => m.get(k) !== ref.get(k))
    .map((k) => (!m.has(k) ? `${k} missing` : !ref.has(k) ? `${k}=${m.get(k)} extra` : `${k}=${m.get(k)} (not ${ref.get(k)})`))
    .join(", ");
const envValue = (env, key) =>
  Array.isArray(env) ? env.map(String).find((e) => e.startsWith(`${key}=`))?.slice(key.length + 1) : env?.[key] === undefined ? undefined : String(env[key]);

function settingsCmd(file, composeFile, shellFile, pairs) {
  if (!composeFile || !shellFile || !pairs.length) usage("settings FILE COMPOSE SHELLFILE SERVICE=STATEFULSET...");
  const docs = readDocs(file);
  let compose, shell;
  try {
    compose = YAML.parse(composeDefaults(fs.readFileSync(composeFile, "utf8")));
    shell = fs.readFileSync(shellFile, "utf8");
  } catch (e) {
    usage(`cannot read ${composeFile} or ${shellFile}: ${e.message}`);
  }
  const block = /SERVER_SETTINGS=\(([^)]*)\)/.exec(shell);
  const reference = block ? settingsOf(block[1].replace(/#.*$/gm, "").split(/\s+/).filter(Boolean)) : new Map();
  if (!reference.size) {
    error(`${shellFile} has no SERVER_SETTINGS=( -c k=v ... ) list — restore it (it is the settings' reference)`);
    return;
  }
  const before = failed;
  failed = false;
  const jobEnv = docs.find((d) => d.kind === "ConfigMap" && /^replication-job-env(-[a-z0-9]{10})?$/.test(d.metadata?.name ?? ""));
  for (const pair of pairs) {
    const [service, sts] = pair.split("=");
    const svc = compose?.services?.[service];
    const set = docs.find((d) => d.kind === "StatefulSet" && d.metadata?.name === sts);
    if (!svc) {
      error(`${composeFile} has no service ${service} — restore it`);
      continue;
    }
    if (!set) {
      error(`the rendered manifests have no StatefulSet ${sts} — restore it`);
      continue;
    }
    const c = set.spec?.template?.spec?.containers?.find((x) => x.name === "postgres") ?? set.spec?.template?.spec?.containers?.[0] ?? {};
    const cmd = Array.isArray(svc.command) ? svc.command.map(String) : String(svc.command ?? "").split(/\s+/).filter(Boolean);
    const composeSettings = settingsOf(cmd);
    const k8sSettings = settingsOf([...(c.command ?? []), ...(c.args ?? [])].map(String));
    if (fmt(composeSettings) !== fmt(reference))
      error(`${composeFile} ${service} -c settings differ from ${shellFile} SERVER_SETTINGS: ${diff(composeSettings, reference)} — make them equal`);
    if (fmt(k8sSettings) !== fmt(reference))
      error(`StatefulSet ${sts} (k8s/) -c settings differ from ${shellFile} SERVER_SETTINGS: ${diff(k8sSettings, reference)} — make them equal`);
    if (svc.image !== c.image) error(`${composeFile} ${service} uses image ${svc.image}, StatefulSet ${sts} ${c.image} — make them equal`);
    const db = envValue(svc.environment, "POSTGRES_DB");
    const k8sDb = (c.env ?? []).find((e) => e.name === "POSTGRES_DB")?.value;
    if (!db || db !== k8sDb) error(`${composeFile} ${service} has POSTGRES_DB ${db}, StatefulSet ${sts} ${k8sDb} — make them equal`);
    const role = /source/.test(sts) ? "SOURCE" : /target/.test(sts) ? "TARGET" : null;
    if (role && jobEnv?.data?.[`${role}_DB`] !== k8sDb)
      error(`ConfigMap replication-job-env has ${role}_DB=${jobEnv?.data?.[`${role}_DB`]}, StatefulSet ${sts} POSTGRES_DB=${k8sDb} — make them equal in k8s/kustomization.yaml`);
    if (role && jobEnv?.data?.[`${role}_HOST`] !== sts)
      error(`ConfigMap replication-job-env has ${role}_HOST=${jobEnv?.data?.[`${role}_HOST`]}, but the Service is ${sts} — fix k8s/kustomization.yaml`);
  }
  if (!failed)
    ok(`${composeFile}, k8s/ and ${shellFile} agree: -c ${fmt(reference)}; images and databases of ${pairs.join(", ")}`);
  failed = failed || before;
}

// --- pgbouncer ---------------------------------------------------------------

// docker-compose.yml, parsed (a usage error when it cannot be read).
function readCompose(composeFile) {
  try {
    return YAML.parse(composeDefaults(fs.readFileSync(composeFile, "utf8")));
  } catch (e) {
    usage(`cannot read ${composeFile}: ${e.message}`);
  }
}

// Compose's ${NAME:-default} with its default, as docker-compose sees the file
// with NAME unset (e.g. image: postgres:${SOURCE_VERSION:-14} -> postgres:14):
// k8s/ is compared against the default versions.
function composeDefaults(text) {
  return text.replace(/\$\{[A-Za-z_][A-Za-z0-9_]*:-([^}]*)\}/g, "$1");
}

function pgbouncerCmd(file, composeFile, pair, sourcePair) {
  if (!composeFile || !pair?.includes("=") || !sourcePair?.includes("="))
    usage("pgbouncer FILE COMPOSE SERVICE=DEPLOYMENT SOURCE=STATEFULSET");
  const docs = readDocs(file);
  const compose = readCompose(composeFile);
  const [service, deployment] = pair.split("=");
  const [sourceService, sts] = sourcePair.split("=");
  const svc = compose?.services?.[service];
  const dep = docs.find((d) => d.kind === "Deployment" && d.metadata?.name === deployment);
  const set = docs.find((d) => d.kind === "StatefulSet" && d.metadata?.name === sts);
  if (!svc) return error(`${composeFile} has no service ${service} — restore it`);
  if (!dep) return error(`the rendered manifests have no Deployment ${deployment} — restore k8s/pgbouncer.yaml`);
  if (!set) return error(`the rendered manifests have no StatefulSet ${sts} — restore it`);
  const c = dep.spec?.template?.spec?.containers?.[0] ?? {};
  const k8sEnv = (key) => (c.env ?? []).find((e) => e.name === key)?.value;
  const sourceDb = envValue(compose?.services?.[sourceService]?.environment, "POSTGRES_DB");
  const k8sSourceDb = (set.spec?.template?.spec?.containers?.[0]?.env ?? []).find((e) => e.name === "POSTGRES_DB")?.value;
  const before = failed;
  failed = false;
  if (svc.image !== c.image) error(`${composeFile} ${service} uses image ${svc.image}, Deployment ${deployment} ${c.image} — make them equal`);
  if (envValue(svc.environment, "PGBOUNCER_DB_HOST") !== sourceService)
    error(`${composeFile} ${service} has PGBOUNCER_DB_HOST=${envValue(svc.environment, "PGBOUNCER_DB_HOST")}, not the source service ${sourceService} — fix it`);
  if (envValue(svc.environment, "PGBOUNCER_DB_NAME") !== sourceDb)
    error(`${composeFile} ${service} has PGBOUNCER_DB_NAME=${envValue(svc.environment, "PGBOUNCER_DB_NAME")}, the source's POSTGRES_DB is ${sourceDb} — make them equal`);
  if (k8sEnv("PGBOUNCER_DB_HOST") !== set.spec?.serviceName)
    error(`Deployment ${deployment} has PGBOUNCER_DB_HOST=${k8sEnv("PGBOUNCER_DB_HOST")}, not the source's Service ${set.spec?.serviceName} — fix k8s/pgbouncer.yaml`);
  if (k8sEnv("PGBOUNCER_DB_NAME") !== k8sSourceDb)
    error(`Deployment ${deployment} has PGBOUNCER_DB_NAME=${k8sEnv("PGBOUNCER_DB_NAME")}, StatefulSet ${sts} POSTGRES_DB=${k8sSourceDb} — make them equal in k8s/pgbouncer.yaml`);
  if (!failed) ok(`${composeFile} ${service} and Deployment ${deployment} agree: image ${c.image}, appdb -> the source's ${k8sSourceDb}`);
  failed = failed || before;
}

// --- audit -------------------------------------------------------------------

// The value of --NAME=V or --NAME V in an argument list.
const optionOf = (args, name) => {
  const i = args.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  return i < 0 ? undefined : args[i].includes("=") ? args[i].slice(name.length + 3) : args[i + 1];
};

function auditCmd(file, composeFile, pair) {
  if (!composeFile || !pair?.includes("=")) usage("audit FILE COMPOSE SERVICE=STATEFULSET");
  const docs = readDocs(file);
  const compose = readCompose(composeFile);
  const [service, sts] = pair.split("=");
  const svc = compose?.services?.[service];
  const set = docs.find((d) => d.kind === "StatefulSet" && d.metadata?.name === sts);
  if (!svc) return error(`${composeFile} has no service ${service} — restore it`);
  if (!set) return error(`the rendered manifests have no StatefulSet ${sts} — restore k8s/pgparity-audit.yaml`);
  const service_ = docs.find((d) => d.kind === "Service" && d.metadata?.name === set.spec?.serviceName);
  const c = set.spec?.template?.spec?.containers?.[0] ?? {};
  const composeArgs = (Array.isArray(svc.command) ? svc.command : String(svc.command ?? "").split(/\s+/)).map(String);
  const k8sArgs = [...(c.command ?? []), ...(c.args ?? [])].map(String);
  const before = failed;
  failed = false;
  if (svc.image !== c.image) error(`${composeFile} ${service} uses image ${svc.image}, StatefulSet ${sts} ${c.image} — make them equal`);
  for (const [where, args] of [[`${composeFile} ${service}`, composeArgs], [`StatefulSet ${sts}`, k8sArgs]])
    if (!args.includes("audit")) error(`${where} does not run pgparity audit — fix its command`);
  const port = (args) => /:([0-9]+)$/.exec(optionOf(args, "metrics-listen") ?? "")?.[1];
  const composePort = port(composeArgs);
  const k8sPort = port(k8sArgs);
  const containerPort = String((c.ports ?? []).find((p) => p.name === "metrics")?.containerPort);
  const servicePort = (service_?.spec?.ports ?? []).find((p) => p.name === "metrics");
  const annotation = service_?.metadata?.annotations?.["prometheus.io/port"];
  if (!composePort || composePort !== k8sPort || k8sPort !== containerPort || String(servicePort?.port) !== k8sPort || annotation !== k8sPort)
    error(`the metrics port differs: ${composeFile} ${service} --metrics-listen :${composePort}, StatefulSet ${sts} :${k8sPort}, container port metrics ${containerPort}, Service ${service_?.metadata?.name} port metrics ${servicePort?.port}, prometheus.io/port ${annotation} — make them equal`);
  if (!(svc.ports ?? []).map(String).some((p) => p.endsWith(`:${composePort}`) || p === composePort))
    error(`${composeFile} ${service} does not publish its metrics port ${composePort} — add it under ports`);
  const composeState = optionOf(composeArgs, "state-dir");
  const k8sState = optionOf(k8sArgs, "state-dir");
  const claims = new Set((set.spec?.volumeClaimTemplates ?? []).map((t) => t.metadata?.name));
  if (!(svc.volumes ?? []).map(String).some((v) => v.split(":")[1] === composeState && compose?.volumes && v.split(":")[0] in compose.volumes))
    error(`${composeFile} ${service}: --state-dir ${composeState} is on no named volume — mount one there`);
  if (!(c.volumeMounts ?? []).some((m) => m.mountPath === k8sState && claims.has(m.name)))
    error(`StatefulSet ${sts}: --state-dir ${k8sState} is on no volumeClaimTemplate — mount one there`);
  if (!failed) ok(`${composeFile} ${service} and StatefulSet ${sts} agree: image ${c.image}, metrics on ${k8sPort} (Service, prometheus.io/port), --state-dir on a named volume / a PVC`);
  failed = failed || before;
}

// --- versions ----------------------------------------------------------------

// The rendered overlay of env/k8s-overlay.sh runs postgres:SOURCE in the
// StatefulSet postgres-source, postgres:TARGET in postgres-target and in
// every Job (their psql); `compose` = the images docker-compose printed.
function versionsCmd(file, source, target) {
  if (!/^[0-9]+$/.test(source ?? "") || !/^[0-9]+$/.test(target ?? "")) usage("versions FILE SOURCE TARGET");
  const docs = readDocs(file);
  const before = failed;
  failed = false;
  const want = [
    ["StatefulSet", "postgres-source", `postgres:${source}`],
    ["StatefulSet", "postgres-target", `postgres:${target}`],
    ...docs.filter((d) => d.kind === "Job").map((d) => ["Job", d.metadata?.name, `postgres:${target}`]),
  ];
  for (const [kind, name, image] of want) {
    const d = docs.find((x) => x.kind === kind && x.metadata?.name === name);
    const got = (d?.spec?.template?.spec?.containers ?? []).map((c) => c.image);
    if (!d) error(`the rendered overlay has no ${kind} ${name} — restore it in k8s/`);
    else if (got.length !== 1 || got[0] !== image)
      error(`${kind} ${name} runs ${got.join(", ") || "no image"}, not ${image} — fix k8s/components/versions`);
  }
  if (!failed) ok(`k8s/components/versions: postgres-source on postgres:${source}, postgres-target and ${want.length - 2} Jobs on postgres:${target}`);
  failed = failed || before;
}

// --- main --------------------------------------------------------------------

const [cmd, ...rest] = process.argv.slice(2);
if (cmd === "configmaps") configmapsCmd(rest[0], rest.slice(1));
else if (cmd === "settings") settingsCmd(rest[0], rest[1], rest[2], rest.slice(3));
else if (cmd === "pgbouncer") pgbouncerCmd(rest[0], rest[1], rest[2], rest[3]);
else if (cmd === "audit") auditCmd(rest[0], rest[1], rest[2]);
else if (cmd === "versions") versionsCmd(rest[0], rest[1], rest[2]);
else if (cmd === "schema") await schemaCmd(rest[0]);
else if (cmd === undefined || cmd === "-" || !cmd.startsWith("-")) await schemaCmd(cmd);
else usage(`unknown option ${cmd}; see the header of ${path.join(here, "validate.mjs")}`);
process.exit(failed ? 1 : 0);
