// Decision step "I/O mode": is the VM's aio mode one that submits asynchronous O_DIRECT writes?
import type { IoMode } from '../probes/types.js';
import type { ReasonItem } from './decide-types.js';
import type { KbBug } from './knowledge-base-schema.js';

export interface IoModeAssessment {
  mode: IoMode | null;
  /** null (not given) counts as exposed. */
  exposed: boolean;
  reason: ReasonItem;
}

export function assessIoMode(bug: KbBug, mode: IoMode | null): IoModeAssessment {
  const exposed = mode === null || !bug.io_modes.not_exposed.includes(mode);
  const reason: ReasonItem =
    mode === null
      ? { code: 'io_mode_assumed_exposed', detail: 'no I/O mode given: assuming an exposed one (aio=native or io_uring)' }
      : exposed
        ? { code: 'io_mode_exposed', detail: `aio=${mode} submits asynchronous O_DIRECT writes: exposed` }
        : {
            code: 'io_mode_not_exposed',
            detail: `aio=${mode} writes synchronously from a thread pool: the size update happens under the inode lock, so this race cannot occur for that mode (${bug.io_modes.confidence})`,
          };
  return { mode, exposed, reason };
}
