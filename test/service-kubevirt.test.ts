// KubeVirt: the DaemonSet and the VM's nodeAffinity have the shape Kubernetes expects and agree with
// the code (labels, roots, paths); a virt-launcher disk laid out as on a node is judged on its XFS.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { isUnderAllowedRoots } from '../policies/operator-policy.js';
import { NFD_RACE_LABEL, isValidLabelKey } from '../service/host/nfd.js';
import { KUBEVIRT_ALLOWED_ROOTS, KUBEVIRT_DISK_LOCATIONS, nodePathOf } from '../service/kubevirt/paths.js';
import { loopFsOrSkip } from './helpers/scratch-fs.js';
import { REPO_ROOT, runCli } from './helpers/run-cli.js';

type Obj = Record<string, unknown>;
const DIR = path.join(REPO_ROOT, 'service', 'kubevirt');

function docs(file: string): Obj[] {
  const all = parseAllDocuments(readFileSync(path.join(DIR, file), 'utf8'));
  for (const d of all) assert.deepEqual(d.errors, [], `${file}: YAML errors`);
  return all.map((d) => d.toJS() as Obj);
}

function at(o: unknown, ...keys: (string | number)[]): unknown {
  let cur = o;
  for (const k of keys) {
    assert.ok(cur !== null && typeof cur === 'object', `missing ${keys.join('.')}`);
    cur = (cur as Obj)[k as string];
  }
  return cur;
}

test('DaemonSet manifest: apps/v1 with selector matching the pod labels, tolerations, hostPaths with propagation, NFD dir and the policy\'s roots', () => {
  const all = docs('xfsguard-daemonset.yaml');
  assert.deepEqual(all.map((d) => `${String(d.apiVersion)}/${String(d.kind)}`), ['v1/Namespace', 'v1/ConfigMap', 'apps/v1/DaemonSet']);
  const ds = all[2]!;
  for (const d of all.slice(1)) assert.equal(at(d, 'metadata', 'namespace'), 'xfsguard');
  assert.deepEqual(at(ds, 'spec', 'selector', 'matchLabels'), at(ds, 'spec', 'template', 'metadata', 'labels'));
  const pod = at(ds, 'spec', 'template', 'spec') as Obj;
  assert.deepEqual(pod.tolerations, [{ operator: 'Exists' }], 'runs on tainted (affected) nodes too');
  const c = (pod.containers as Obj[])[0]!;
  const mounts = new Map((c.volumeMounts as Obj[]).map((m) => [m.name as string, m]));
  const volumes = new Map((pod.volumes as Obj[]).map((v) => [v.name as string, v]));
  for (const name of mounts.keys()) assert.ok(volumes.has(name), `volume ${name} declared`);
  assert.equal(mounts.get('kubelet-pods')!.mountPropagation, 'HostToContainer');
  assert.equal(at(volumes.get('kubelet-pods'), 'hostPath', 'path'), '/var/lib/kubelet/pods');
  assert.equal(at(volumes.get('nfd-features'), 'hostPath', 'path'), '/etc/kubernetes/node-feature-discovery/features.d');
  assert.equal(mounts.get('policy')!.mountPath, '/etc/xfsguard');
  // the policy in the ConfigMap allows exactly the roots the code documents, each mounted at the same path
  const policy = JSON.parse(at(all[1], 'data', 'policy.json') as string) as { allowed_roots: string[] };
  assert.deepEqual(policy.allowed_roots, [...KUBEVIRT_ALLOWED_ROOTS]);
  const mounted = [...mounts.values()].map((m) => m.mountPath as string);
  for (const r of policy.allowed_roots) assert.ok(mounted.includes(r), `${r} is mounted`);
  const script = (c.args as string[]).join(' ');
  assert.match(script, /xfsguard boot-check .*--nfd-file \/etc\/kubernetes\/node-feature-discovery\/features\.d\/xfsguard/);
  assert.match(script, /--selftest auto/, 'the refresh reuses stored results');
  assert.match(script, /sleep 21600/, 'refreshed every 6 h, inside the 25 h label expiry');
});

test('VM nodeAffinity: a required NotIn on the label the boot check writes, excluding affected and unknown', () => {
  const [vm] = docs('vm-node-affinity.yaml');
  assert.equal(vm!.apiVersion, 'kubevirt.io/v1');
  assert.equal(vm!.kind, 'VirtualMachine');
  const terms = at(vm, 'spec', 'template', 'spec', 'affinity', 'nodeAffinity', 'requiredDuringSchedulingIgnoredDuringExecution', 'nodeSelectorTerms') as Obj[];
  const expr = (terms[0]!.matchExpressions as Obj[])[0]!;
  assert.equal(expr.key, NFD_RACE_LABEL);
  assert.ok(isValidLabelKey(expr.key));
  assert.equal(expr.operator, 'NotIn');
  assert.deepEqual(expr.values, ['affected', 'unknown']);
});

test('disk locations: every node path lies under an allowed root (or is the hostDisk path); names are checked', () => {
  const policy = { allowed_roots: [...KUBEVIRT_ALLOWED_ROOTS] };
  for (const loc of KUBEVIRT_DISK_LOCATIONS) {
    if (loc.kind === 'host_disk') continue;
    assert.ok(isUnderAllowedRoots(loc.on_node, policy), loc.on_node);
  }
  const uid = '5c0e9a0e-8d43-4b36-9d3b-0f3a0c7e2b11';
  assert.equal(nodePathOf({ kind: 'pvc_filesystem', pod_uid: uid, volume: 'root', pv_name: 'pvc-1' }), `/var/lib/kubelet/pods/${uid}/volumes/kubernetes.io~csi/pvc-1/mount/disk.img`);
  assert.equal(nodePathOf({ kind: 'container_disk_overlay', pod_uid: uid, volume: 'cd' }), `/var/lib/kubelet/pods/${uid}/volumes/kubernetes.io~empty-dir/ephemeral-disks/disk-data/cd/disk.qcow2`);
  assert.throws(() => nodePathOf({ kind: 'empty_dir', pod_uid: '../etc', volume: 'x' }), /not a Kubernetes name/);
});

test('a virt-launcher PVC disk laid out as on a node is judged on its own XFS by check', (t) => {
  const fs = loopFsOrSkip(t, 'xfs');
  if (fs === null) return;
  const kubelet = path.join(fs.mountPoint, 'kubelet');
  const disk = nodePathOf({ kind: 'pvc_filesystem', pod_uid: '5c0e9a0e-8d43-4b36-9d3b-0f3a0c7e2b11', volume: 'root', pv_name: 'pvc-1' }, kubelet);
  mkdirSync(path.dirname(disk), { recursive: true });
  writeFileSync(disk, '');
  const policy = path.join(fs.mountPoint, 'policy.json');
  writeFileSync(policy, JSON.stringify({ allowed_roots: [path.join(kubelet, 'pods')] }));
  const r = runCli(['check', '--json', '--selftest', 'never', '--policy', policy, '--state-dir', path.join(fs.mountPoint, 'state'), disk]);
  assert.ok([0, 10, 11].includes(r.code ?? -1), r.stderr);
  const d = JSON.parse(r.stdout) as { judged_directory: string; evidence: { filesystem: { fs_type: string; path_kind: string } }; decision_id: string; remedies: { id: string }[]; enable_workaround: boolean };
  assert.equal(d.evidence.filesystem.fs_type, 'xfs');
  assert.equal(d.evidence.filesystem.path_kind, 'file');
  assert.equal(d.judged_directory, path.dirname(disk));
  assert.match(d.decision_id, /^[0-9a-f-]{36}$/);
  if (d.enable_workaround) assert.ok(d.remedies.some((x) => x.id === 'kubevirt_io_threads'));
});
