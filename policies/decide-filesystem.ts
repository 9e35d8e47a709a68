// Decision step "filesystem": which kind of filesystem takes the writes (overlay resolved to its upper
// layer), and the reason that says so. Only XFS can have this race; what cannot be seen is unknown.
import type { FilesystemFacts, FsClass } from '../probes/types.js';
import type { ReasonItem } from './decide-types.js';

export type FsKind = 'xfs' | 'not_xfs' | 'pseudo' | 'network' | 'fuse' | 'local_unknown' | 'unknown';

export interface FsAssessment {
  kind: FsKind;
  fs_type: string;
  fs_class: FsClass;
  via_overlay: boolean;
  reasons: ReasonItem[];
}

function classify(fsType: string, fsClass: FsClass): FsKind {
  switch (fsClass) {
    case 'pseudo':
      return 'pseudo';
    case 'network':
      return 'network';
    case 'fuse':
      return 'fuse';
    case 'local':
      if (fsType === 'xfs') return 'xfs';
      return fsType === '' || fsType === 'unknown' ? 'local_unknown' : 'not_xfs';
    default:
      return 'unknown';
  }
}

/** Overlay: the upper layer takes the writes. Returns a final (unknown) assessment when it cannot be resolved. */
function resolveOverlay(fs: FilesystemFacts, reasons: ReasonItem[]): FsAssessment | { fs_type: string; fs_class: FsClass } {
  const upper = fs.overlay_upper;
  if (upper === null) {
    reasons.push({
      code: 'filesystem_overlay_unresolved',
      detail: `${fs.judged_directory} is on overlayfs and its upper layer could not be found: the filesystem that takes the writes is unknown`,
    });
    return { kind: 'unknown', fs_type: fs.fs_type, fs_class: fs.fs_class, via_overlay: true, reasons };
  }
  reasons.push({
    code: 'filesystem_overlay_upper',
    detail: `${fs.judged_directory} is on overlayfs; writes go to the upper layer ${upper.directory} (${upper.fs_type}, ${upper.fs_class}, magic ${upper.magic_hex}), which is judged`,
  });
  if (upper.fs_class === 'overlay') {
    reasons.push({ code: 'filesystem_overlay_unresolved', detail: 'the upper layer is itself an overlay: not resolved further' });
    return { kind: 'unknown', fs_type: upper.fs_type, fs_class: upper.fs_class, via_overlay: true, reasons };
  }
  return { fs_type: upper.fs_type, fs_class: upper.fs_class };
}

function kindReason(kind: FsKind, where: string, fsType: string, fsClass: FsClass, magicHex: string): ReasonItem {
  switch (kind) {
    case 'xfs':
      return { code: 'filesystem_xfs', detail: `${where} is on local XFS (magic ${magicHex})` };
    case 'not_xfs': {
      let extra = '';
      if (fsType === 'zfs') extra = '; note: OpenZFS has a sibling fallocate/write size race (openzfs/zfs#11797), not covered by this answer';
      else if (fsType === 'ext4') extra = '; ext4 only grows the size in fallocate and makes extending DIO synchronous';
      return { code: 'filesystem_not_xfs', detail: `${where} is on local ${fsType}, not XFS: this race is XFS-specific${extra}` };
    }
    case 'pseudo':
      return { code: 'filesystem_pseudo', detail: `${where} is on the pseudo filesystem ${fsType}: no VM images live there` };
    case 'network':
      return {
        code: 'filesystem_network',
        detail: `${where} is on the network filesystem ${fsType}: the client cannot see the server's filesystem (it may be XFS, e.g. an NFS export or a Gluster brick), so it cannot be ruled out`,
      };
    case 'fuse':
      return {
        code: 'filesystem_fuse',
        detail: `${where} is on FUSE (${fsType}): the filesystem behind the daemon (possibly XFS) cannot be seen, so it cannot be ruled out`,
      };
    case 'local_unknown':
      return { code: 'filesystem_unknown', detail: `${where} is on a local filesystem of unknown type (magic ${magicHex}): XFS cannot be ruled out` };
    case 'unknown':
      return { code: 'filesystem_unknown', detail: `${where}: filesystem class ${fsClass}, type ${fsType} — cannot be ruled out` };
  }
}

export function assessFilesystem(fs: FilesystemFacts): FsAssessment {
  const reasons: ReasonItem[] = [];
  let fsType = fs.fs_type;
  let fsClass: FsClass = fs.fs_class;
  const viaOverlay = fs.fs_class === 'overlay';
  if (viaOverlay) {
    const r = resolveOverlay(fs, reasons);
    if ('kind' in r) return r;
    ({ fs_type: fsType, fs_class: fsClass } = r);
  }
  const kind = classify(fsType, fsClass);
  const where = `${fs.judged_directory}${viaOverlay ? ' (overlay upper layer)' : ''}`;
  // the XFS magic is the upper layer's when judged through an overlay; other kinds name the path's own
  const magicHex = kind === 'xfs' && viaOverlay ? fs.overlay_upper!.magic_hex : fs.magic_hex;
  reasons.push(kindReason(kind, where, fsType, fsClass, magicHex));
  return { kind, fs_type: fsType, fs_class: fsClass, via_overlay: viaOverlay, reasons };
}

/** The filesystems where a self-test result or a kernel table speaks about this race at all. */
export function isLocalFs(kind: FsKind): boolean {
  return kind === 'xfs' || kind === 'local_unknown' || kind === 'not_xfs';
}
