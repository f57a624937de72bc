/**
 * The launcher process (launcher.ts): runs each requested program with `runInGroup` and sends the outcome back.
 * It ends when its parent's channel closes; group.ts's exit handler then kills any group still running.
 */
import { runInGroup } from './group.js';
import type { LaunchMessage, LaunchReply } from './launcher.js';

const aborts = new Map<number, AbortController>();

function reply(m: LaunchReply): void {
  if (process.connected) process.send!(m);
}

process.on('message', (m: LaunchMessage) => {
  if (m.type === 'abort') return aborts.get(m.id)?.abort();
  if (m.type === 'usage') {
    const u = process.resourceUsage();
    return reply({ type: 'usage', cpuS: (u.userCPUTime + u.systemCPUTime) / 1e6 });
  }
  const abort = new AbortController();
  aborts.set(m.id, abort);
  runInGroup(m.bin, m.args, { ...m.options, signal: abort.signal, via: 'direct' })
    .then(
      (outcome) => reply({ type: 'done', id: m.id, outcome }),
      (e: NodeJS.ErrnoException) => {
        const { message, code, errno, syscall, path } = e;
        reply({ type: 'failed', id: m.id, error: { message, code, errno, syscall, path } });
      },
    )
    .finally(() => aborts.delete(m.id));
});
process.on('disconnect', () => process.exit(0));
reply({ type: 'ready' });
